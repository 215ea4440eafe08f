//! General matrix multiply: `C = A·B` or `C += A·B`.
//!
//! The loops and packing follow the BLIS design: B is packed into `KC × NR` panels that stay
//! in L1, A into `MC × KC` blocks that stay in L2, and a register-blocked micro-kernel
//! (`Real::micro_kernel`) does all the arithmetic. Operands are strided views, so transposes
//! (PyTorch keeps weights as `[out, in]`, and `X·Wᵀ` is the common product) cost nothing.
//! A B used for many products (a recurrent weight, once per time step) can be packed once:
//! `PackedB` and `gemm_packed`, which give the same bits as `gemm`.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd128;
mod view;

pub use view::{MatMut, MatRef};

use crate::real::{Real, MR, NR};
use crate::{Error, Result};
use std::sync::OnceLock;

const MC: usize = 128;
const KC: usize = 256;
const NC: usize = 2048;

/// Whether the product overwrites C or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    Overwrite,
    Add,
}

/// `C = A·B` (or `C += A·B`), checking that the shapes agree.
pub fn gemm<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>, mode: Accumulate) -> Result<()> {
    product(a, b, None, c, mode)
}

/// B in the micro-kernel's panels, for many products with the same B. The panels are made by
/// the first product that needs them: a product with a few rows reads B as it is.
pub struct PackedB<'a, T> {
    b: MatRef<'a, T>,
    panels: OnceLock<Vec<T>>,
}

impl<'a, T: Real> PackedB<'a, T> {
    pub fn new(b: MatRef<'a, T>) -> Self {
        PackedB { b, panels: OnceLock::new() }
    }

    /// Every `KC`-row block of B, each as the `NR`-column panels `blocked` reads: block `pc`
    /// starts at `pc · n_pad` and its panel `j / NR` at `j · kc` within it.
    fn panels(&self) -> &[T] {
        self.panels.get_or_init(|| {
            let (k, n) = (self.b.rows(), self.b.cols());
            let n_pad = n.next_multiple_of(NR);
            let mut all = vec![T::zero(); k * n_pad];
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                pack::<T, NR>(self.b, pc, kc, 0, n, &mut all[pc * n_pad..(pc + kc) * n_pad]);
            }
            all
        })
    }
}

/// `C = A·B` (or `C += A·B`) with a packed B: the same bits as `gemm` with B itself.
pub fn gemm_packed<T: Real>(a: MatRef<'_, T>, b: &PackedB<'_, T>, c: MatMut<'_, T>, mode: Accumulate) -> Result<()> {
    product(a, b.b, Some(b), c, mode)
}

fn product<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, packed: Option<&PackedB<'_, T>>, c: MatMut<'_, T>, mode: Accumulate) -> Result<()> {
    if a.cols() != b.rows() || c.rows() != a.rows() || c.cols() != b.cols() {
        return Err(Error::shape(
            "matmul",
            format!("A [m, k] · B [k, n] into C [m, n] with A [{}, {}]", a.rows(), a.cols()),
            format!("B [{}, {}] and C [{}, {}]", b.rows(), b.cols(), c.rows(), c.cols()),
        ));
    }
    let (m, n) = (c.rows(), c.cols());
    if m == 0 || n == 0 {
        return Ok(());
    }
    if m <= MR && a.cols() > 0 && a.row_slice(0).is_some() && b.col_slice(0).is_some() {
        few_rows(a, b, c, mode);
        return Ok(());
    }
    let out = Out { ptr: c.into_ptr(), ld: n };
    let panels = match packed {
        Some(p) if a.cols() > 0 => Panels::Ready(p.panels()),
        _ => Panels::Pack,
    };
    split_over_threads(a, b, panels, out, mode);
    Ok(())
}

/// A product with a few rows of A against a transposed B (`X·Wᵀ` for a batch of one to four,
/// as a streaming step is): each row of A against the rows of W (`Real::dot_rows`), with
/// nothing packed, so the weights are read once and not copied. The choice depends only on
/// shape and layout, and every value's sum has its own fixed order (`dot_rows`), so the bits do
/// not depend on the thread count either.
fn few_rows<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>, mode: Accumulate) {
    let n = c.cols();
    let out = Out { ptr: c.into_ptr(), ld: n };
    #[cfg(feature = "parallel")]
    if rayon::current_num_threads() > 1 && n * a.cols() * std::mem::size_of::<T>() >= PARALLEL_MIN_STREAM_BYTES {
        // The threads take blocks of W's rows as they come, and the calling thread waits for
        // the others' last blocks by spinning: a rayon thread that waits for its scope longer
        // than a few µs goes to sleep, and waking it costs more than the whole product.
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let drain = || {
            let mut sums = Vec::new();
            loop {
                let j0 = next.fetch_add(STREAM_BLOCK, Ordering::Relaxed);
                if j0 >= n {
                    break;
                }
                let cols = j0..(j0 + STREAM_BLOCK).min(n);
                let len = cols.len();
                few_rows_columns(a, b, cols, out, mode, &mut sums);
                done.fetch_add(len, Ordering::Release);
            }
        };
        rayon::scope(|scope| {
            for _ in 1..rayon::current_num_threads() {
                scope.spawn(|_| drain());
            }
            drain();
            // Every block taken is being computed, so this ends; helpers that no thread took
            // in time find no blocks left when the scope runs them.
            while done.load(Ordering::Acquire) < n {
                std::hint::spin_loop();
            }
        });
        return;
    }
    few_rows_columns(a, b, 0..n, out, mode, &mut Vec::new());
}

/// The columns `cols` of a `few_rows` product, written into C (row-major, `out`). In Add mode
/// the products go through `sums`, which a thread keeps from block to block.
fn few_rows_columns<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, cols: std::ops::Range<usize>, out: Out<T>, mode: Accumulate, sums: &mut Vec<T>) {
    let (w, stride) = b.columns().expect("checked contiguous");
    let w = &w[cols.start * stride..];
    if mode == Accumulate::Add {
        sums.resize(cols.len(), T::zero());
    }
    for i in 0..a.rows() {
        let row = a.row_slice(i).expect("checked contiguous");
        // SAFETY: row i of C has `ld` values and `cols` lies inside it; no other thread
        // writes these columns, and `gemm` holds the only borrow of C until all have finished.
        let c_row = unsafe { std::slice::from_raw_parts_mut(out.ptr.add(i * out.ld + cols.start), cols.len()) };
        if mode == Accumulate::Add {
            T::dot_rows(row, w, stride, sums);
            c_row.iter_mut().zip(sums.iter()).for_each(|(c, &s)| *c = *c + s);
        } else {
            T::dot_rows(row, w, stride, c_row);
        }
    }
}

/// The sum of each column of a row-major matrix with `cols` columns: the bias gradient of a
/// layer whose pre-activation gradients are the rows.
pub(crate) fn column_sums<T: Real>(matrix: &[T], cols: usize) -> Vec<T> {
    let mut sums = vec![T::zero(); cols];
    for row in matrix.chunks_exact(cols) {
        sums.iter_mut().zip(row).for_each(|(s, &x)| *s = *s + x);
    }
    sums
}

/// C as a raw row-major pointer, so disjoint column ranges can be written from several threads.
#[derive(Clone, Copy)]
struct Out<T> {
    ptr: *mut T,
    ld: usize,
}

// SAFETY: every thread writes a disjoint range of columns of C, and `gemm` holds the only
// mutable borrow of C until all of them have finished.
unsafe impl<T: Send> Send for Out<T> {}
unsafe impl<T: Sync> Sync for Out<T> {}

#[cfg(feature = "parallel")]
impl<T> Out<T> {
    fn columns_from(self, j0: usize) -> Self {
        // SAFETY: j0 < n, so the pointer stays inside row 0 of C.
        Out { ptr: unsafe { self.ptr.add(j0) }, ld: self.ld }
    }

    fn rows_from(self, i0: usize) -> Self {
        // SAFETY: i0 < m, so the pointer stays inside C.
        Out { ptr: unsafe { self.ptr.add(i0 * self.ld) }, ld: self.ld }
    }
}

/// Products of at least this many flops are split over threads; smaller ones would spend
/// more on waking threads than they save.
#[cfg(feature = "parallel")]
const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// A few-rows product is split over threads from this size of W on (W1's recurrent weight is
/// 1 MB, its input weight 128 KB).
#[cfg(feature = "parallel")]
const PARALLEL_MIN_STREAM_BYTES: usize = 256 << 10;

/// The rows of W a thread takes at a time in a split few-rows product: a multiple of the six
/// that `dot_rows` reads at once, about 1 µs of work for W1's hidden size.
#[cfg(feature = "parallel")]
const STREAM_BLOCK: usize = 48;

/// Splits C into column ranges, or into row ranges when it has too few columns for two (the
/// narrow products of a small input's weight gradient), and runs them over threads. Every
/// element is computed by the same instructions in the same order whichever range holds it, so
/// the result is bit-identical whatever the split and the thread count.
fn split_over_threads<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, panels: Panels<'_, T>, out: Out<T>, mode: Accumulate) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let (m, n) = (a.rows(), b.cols());
        let chunk = |len: usize, step: usize| (len / 8).max(64).next_multiple_of(step);
        if 2 * m * a.cols() * n >= PARALLEL_MIN_FLOPS {
            let (width, height) = (chunk(n, NR), chunk(m, MR));
            if n > width {
                (0..n.div_ceil(width)).into_par_iter().for_each(|c| {
                    let j0 = c * width;
                    blocked(a, b, j0..(j0 + width).min(n), panels, out.columns_from(j0), mode);
                });
                return;
            }
            if m > height {
                (0..m.div_ceil(height)).into_par_iter().for_each(|r| {
                    let i0 = r * height;
                    blocked(a.row_range(i0..(i0 + height).min(m)), b, 0..n, panels, out.rows_from(i0), mode);
                });
                return;
            }
        }
    }
    blocked(a, b, 0..b.cols(), panels, out, mode);
}

/// Where `blocked` finds B's panels: packed by itself block by block, or all made beforehand.
#[derive(Clone, Copy)]
enum Panels<'p, T> {
    Pack,
    Ready(&'p [T]),
}

/// The single-threaded blocked product over all of A and the columns `cols` of B (whose first
/// column `out` points at). `cols.start` is a multiple of `NR`.
fn blocked<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, cols: std::ops::Range<usize>, panels: Panels<'_, T>, out: Out<T>, mode: Accumulate) {
    let (m, k, n) = (a.rows(), a.cols(), cols.len());
    if k == 0 {
        if mode == Accumulate::Overwrite {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: i < m and j < n, inside C.
                    unsafe { *out.ptr.add(i * out.ld + j) = T::zero() };
                }
            }
        }
        return;
    }
    let mut b_pack = match panels {
        Panels::Pack => vec![T::zero(); KC * NC.min(n.next_multiple_of(NR))],
        Panels::Ready(_) => Vec::new(),
    };
    let mut a_pack = vec![T::zero(); MC.min(m.next_multiple_of(MR)) * KC];
    let mut tile = [[T::zero(); NR]; MR];
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let add = pc > 0 || mode == Accumulate::Add;
            let (j0, width) = (cols.start + jc, nc.next_multiple_of(NR));
            let b_block: &[T] = match panels {
                Panels::Pack => {
                    pack::<T, NR>(b, pc, kc, j0, nc, &mut b_pack);
                    &b_pack
                }
                Panels::Ready(all) => {
                    let start = pc * b.cols().next_multiple_of(NR) + j0 * kc;
                    &all[start..start + width * kc]
                }
            };
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack::<T, MR>(a.t(), pc, kc, ic, mc, &mut a_pack);
                for jr in (0..nc).step_by(NR) {
                    let b_panel = &b_block[jr * kc..(jr + NR) * kc];
                    for ir in (0..mc).step_by(MR) {
                        let a_panel = &a_pack[ir * kc..(ir + MR) * kc];
                        T::micro_kernel(kc, a_panel, b_panel, &mut tile);
                        let rows = MR.min(mc - ir);
                        let cols = NR.min(nc - jr);
                        store_tile(&tile, out, ic + ir, jc + jr, rows, cols, add);
                    }
                }
            }
        }
    }
}

/// Packs `src[p0..p0+kc, j0..j0+width]` into panels of `W` columns, each `kc` rows of `W`
/// values, padding the last panel with zeros. B is packed as it is (`W = NR`); A is packed as
/// Aᵀ (`W = MR`), so that both panels are read with unit stride by the micro-kernel. Packing
/// runs once per product (A: once per time step), so the two contiguous layouts get loops
/// without per-value index arithmetic.
fn pack<T: Real, const W: usize>(src: MatRef<'_, T>, p0: usize, kc: usize, j0: usize, width: usize, dst: &mut [T]) {
    for (panel, jp) in (0..width).step_by(W).enumerate() {
        let cols = W.min(width - jp);
        let panel_dst = &mut dst[panel * kc * W..(panel + 1) * kc * W];
        if cols < W {
            panel_dst.fill(T::zero());
        }
        if src.row_slice(p0).is_some() {
            // Rows contiguous: each packed row is a slice of a source row.
            // A whole panel copies a constant W values a row, which compiles to vector moves;
            // a copy of variable length is a `memory.copy`, a call into the engine each time.
            let start = j0 + jp;
            for (p, out) in panel_dst.chunks_exact_mut(W).enumerate() {
                let row = src.row_slice(p0 + p).expect("contiguous rows");
                if cols == W {
                    out.copy_from_slice(&row[start..start + W]);
                } else {
                    out[..cols].copy_from_slice(&row[start..start + cols]);
                }
            }
        } else if src.col_slice(j0 + jp).is_some() && cols == W {
            // Columns contiguous (a transpose): gather W columns, a transpose of the block.
            // Four steps of every column at a time: fixed-size blocks, so no index is checked
            // and the transpose is a few vector shuffles.
            let columns: [&[T]; W] = std::array::from_fn(|j| &src.col_slice(j0 + jp + j).expect("contiguous columns")[p0..p0 + kc]);
            let whole = kc / 4 * 4;
            for (block, out) in panel_dst[..whole * W].chunks_exact_mut(4 * W).enumerate() {
                let p = 4 * block;
                let values: [[T; 4]; W] = std::array::from_fn(|j| columns[j][p..p + 4].try_into().expect("four values"));
                for q in 0..4 {
                    for j in 0..W {
                        out[q * W + j] = values[j][q];
                    }
                }
            }
            for (p, out) in (whole..kc).zip(panel_dst[whole * W..].chunks_exact_mut(W)) {
                for (x, column) in out.iter_mut().zip(&columns) {
                    *x = column[p];
                }
            }
        } else {
            for (p, out) in panel_dst.chunks_exact_mut(W).enumerate() {
                for (j, x) in out.iter_mut().enumerate().take(cols) {
                    *x = src.at(p0 + p, j0 + jp + j);
                }
            }
        }
    }
}

fn store_tile<T: Real>(tile: &[[T; NR]; MR], out: Out<T>, i0: usize, j0: usize, rows: usize, cols: usize, add: bool) {
    if rows == MR && cols == NR {
        // A whole tile, as nearly all are: fixed-size rows, so the loops unroll into vectors.
        for (r, tile_row) in tile.iter().enumerate() {
            // SAFETY: as below, with a whole row of NR columns inside C.
            let c_row = unsafe { &mut *(out.ptr.add((i0 + r) * out.ld + j0) as *mut [T; NR]) };
            if add {
                c_row.iter_mut().zip(tile_row).for_each(|(c, &t)| *c = *c + t);
            } else {
                *c_row = *tile_row;
            }
        }
        return;
    }
    for (r, tile_row) in tile.iter().enumerate().take(rows) {
        // SAFETY: the caller clips `rows` and `cols` to C, and the columns belong to this thread.
        let c_row = unsafe { std::slice::from_raw_parts_mut(out.ptr.add((i0 + r) * out.ld + j0), cols) };
        if add {
            c_row.iter_mut().zip(tile_row).for_each(|(c, &t)| *c = *c + t);
        } else {
            c_row.copy_from_slice(&tile_row[..cols]);
        }
    }
}
