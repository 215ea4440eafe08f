//! The blocked GEMM equals a naive triple loop, for every shape class the kernels split on
//! (tile edges at 4 and 8, block edges at 128 and 256), transposed views and accumulation.

mod common;

use common::Rng;
use seqwasm_core::{gemm, gemm_packed, Accumulate, Error, MatMut, MatRef, PackedB};

/// C = A·B in f64, with A given as a closure so transposed layouts can share it.
fn naive(m: usize, k: usize, n: usize, a: impl Fn(usize, usize) -> f32, b: impl Fn(usize, usize) -> f32) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a(i, p) as f64 * b(p, j) as f64).sum();
        }
    }
    c
}

/// f32 rounding error of a length-k dot product is bounded by about k·ε·Σ|a||b|; the inputs
/// are in [-1, 1], so k·ε·k is a safe, still tight, bound.
fn assert_close(got: &[f32], want: &[f64], k: usize, label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: length");
    let tol = (k.max(1) as f64).powi(2) * f32::EPSILON as f64 + 1e-6;
    for (idx, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= tol, "{label}: element {idx} is {g}, want {w} (tol {tol})");
    }
}

const SIZES: [usize; 6] = [1, 3, 17, 64, 129, 255];

#[test]
fn equals_naive_product_on_every_size_combination() {
    let mut rng = Rng(1);
    for &m in &SIZES {
        for &k in &SIZES {
            for &n in &SIZES {
                let (a, b) = (rng.vec_f32(m * k), rng.vec_f32(k * n));
                let mut c = vec![f32::NAN; m * n];
                gemm(MatRef::new(&a, m, k).unwrap(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
                let want = naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]);
                assert_close(&c, &want, k, &format!("{m}x{k} · {k}x{n}"));
            }
        }
    }
}

#[test]
fn crosses_the_k_block_boundary() {
    let mut rng = Rng(2);
    let (m, k, n) = (5, 700, 9);
    let (a, b) = (rng.vec_f32(m * k), rng.vec_f32(k * n));
    let mut c = vec![0.0; m * n];
    gemm(MatRef::new(&a, m, k).unwrap(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
    assert_close(&c, &naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]), k, "k = 700");
}

#[test]
fn transposed_views_multiply_without_copies() {
    // X·Wᵀ with W stored as [out, in], the layout of every PyTorch weight.
    let mut rng = Rng(3);
    let (m, k, n) = (17, 64, 33);
    let (x, w) = (rng.vec_f32(m * k), rng.vec_f32(n * k));
    let mut c = vec![0.0; m * n];
    gemm(MatRef::new(&x, m, k).unwrap(), MatRef::new(&w, n, k).unwrap().t(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
    assert_close(&c, &naive(m, k, n, |i, p| x[i * k + p], |p, j| w[j * k + p]), k, "X·Wᵀ");

    // Aᵀ·B, the shape of a weight gradient dZᵀ·X.
    let (a, b) = (rng.vec_f32(k * m), rng.vec_f32(k * n));
    gemm(MatRef::new(&a, k, m).unwrap().t(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
    assert_close(&c, &naive(m, k, n, |i, p| a[p * m + i], |p, j| b[p * n + j]), k, "Aᵀ·B");
}

#[test]
fn a_few_rows_against_transposed_weights_take_the_unpacked_path_and_agree() {
    // One to four rows of X against Wᵀ (a streaming step): dot products, no packing; with k
    // both a multiple of 8 and not, and in both modes.
    let mut rng = Rng(9);
    for (m, k, n) in [(1, 256, 1024), (1, 3, 5), (2, 17, 9), (4, 64, 33), (3, 8, 1)] {
        let (x, w, c0) = (rng.vec_f32(m * k), rng.vec_f32(n * k), rng.vec_f32(m * n));
        let want = naive(m, k, n, |i, p| x[i * k + p], |p, j| w[j * k + p]);
        let mut c = vec![0.0; m * n];
        gemm(MatRef::new(&x, m, k).unwrap(), MatRef::new(&w, n, k).unwrap().t(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
        assert_close(&c, &want, k, &format!("{m}×{k}·({n}×{k})ᵀ"));
        let mut c = c0.clone();
        gemm(MatRef::new(&x, m, k).unwrap(), MatRef::new(&w, n, k).unwrap().t(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Add).unwrap();
        let added: Vec<f64> = want.iter().zip(&c0).map(|(v, &c)| v + c as f64).collect();
        assert_close(&c, &added, k, "accumulated");
    }
}

#[test]
fn accumulate_adds_to_what_c_holds() {
    let mut rng = Rng(4);
    let (m, k, n) = (9, 300, 20);
    let (a, b, c0) = (rng.vec_f32(m * k), rng.vec_f32(k * n), rng.vec_f32(m * n));
    let mut c = c0.clone();
    gemm(MatRef::new(&a, m, k).unwrap(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Add).unwrap();
    let want: Vec<f64> = naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]).iter().zip(&c0).map(|(x, &y)| x + y as f64).collect();
    assert_close(&c, &want, k, "C += A·B");
}

#[test]
fn empty_inner_dimension_gives_zeros_or_leaves_c() {
    let mut c = vec![7.0f32; 6];
    gemm(MatRef::new(&[], 2, 0).unwrap(), MatRef::new(&[], 0, 3).unwrap(), MatMut::new(&mut c, 2, 3).unwrap(), Accumulate::Add).unwrap();
    assert_eq!(c, vec![7.0; 6]);
    gemm(MatRef::new(&[], 2, 0).unwrap(), MatRef::new(&[], 0, 3).unwrap(), MatMut::new(&mut c, 2, 3).unwrap(), Accumulate::Overwrite).unwrap();
    assert_eq!(c, vec![0.0; 6]);
}

#[test]
fn computes_in_f64_for_gradient_checks() {
    let (m, k, n) = (3, 5, 2);
    let a: Vec<f64> = (0..m * k).map(|v| v as f64 / 7.0).collect();
    let b: Vec<f64> = (0..k * n).map(|v| 1.0 - v as f64 / 3.0).collect();
    let mut c = vec![0.0f64; m * n];
    gemm(MatRef::new(&a, m, k).unwrap(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite).unwrap();
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            assert!((c[i * n + j] - want).abs() < 1e-12);
        }
    }
}

#[test]
fn mismatched_shapes_are_named_in_the_error() {
    let a = vec![0.0f32; 6];
    let b = vec![0.0f32; 8];
    let mut c = vec![0.0f32; 4];
    let err = gemm(MatRef::new(&a, 2, 3).unwrap(), MatRef::new(&b, 4, 2).unwrap(), MatMut::new(&mut c, 2, 2).unwrap(), Accumulate::Overwrite).unwrap_err();
    assert_eq!(err.kind(), "ShapeError");
    let msg = err.to_string();
    assert!(msg.contains("A [2, 3]") && msg.contains("B [4, 2]"), "{msg}");

    let err = MatRef::new(&a, 4, 2).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }));
    assert!(err.to_string().contains("4×2 = 8 values") && err.to_string().contains("6 values"), "{err}");
}

/// A B packed once gives the same bits as B itself, product after product, for few and many
/// rows, blocks of k, ragged n, transposed weights and accumulation.
#[test]
fn a_packed_b_gives_the_same_bits_as_b_itself() {
    let mut rng = Rng(6);
    for (k, n, transposed) in [(255, 17, false), (300, 1024, true), (64, 3, true), (1, 9, false), (513, 40, true)] {
        let b = rng.vec_f32(k * n);
        let view = if transposed { MatRef::new(&b, n, k).unwrap().t() } else { MatRef::new(&b, k, n).unwrap() };
        let packed = PackedB::new(view);
        for (m, mode) in [(1, Accumulate::Overwrite), (32, Accumulate::Overwrite), (4, Accumulate::Add), (129, Accumulate::Add), (32, Accumulate::Overwrite)] {
            let a = rng.vec_f32(m * k);
            let start = rng.vec_f32(m * n);
            let (mut plain, mut from_panels) = (start.clone(), start);
            gemm(MatRef::new(&a, m, k).unwrap(), view, MatMut::new(&mut plain, m, n).unwrap(), mode).unwrap();
            gemm_packed(MatRef::new(&a, m, k).unwrap(), &packed, MatMut::new(&mut from_panels, m, n).unwrap(), mode).unwrap();
            let label = format!("{m}x{k} · {k}x{n} ({mode:?}, transposed {transposed})");
            assert!(plain.iter().zip(&from_panels).all(|(x, y)| x.to_bits() == y.to_bits()), "{label}: packed differs");
            if mode == Accumulate::Overwrite {
                let want = if transposed { naive(m, k, n, |i, p| a[i * k + p], |p, j| b[j * k + p]) } else { naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]) };
                assert_close(&from_panels, &want, k, &label);
            }
        }
    }
}

#[test]
fn a_packed_b_checks_shapes_like_gemm() {
    let b = vec![0.0f32; 12];
    let packed = PackedB::new(MatRef::new(&b, 3, 4).unwrap());
    let (a, mut c) = (vec![0.0f32; 10], vec![0.0f32; 8]);
    let err = gemm_packed(MatRef::new(&a, 2, 5).unwrap(), &packed, MatMut::new(&mut c, 2, 4).unwrap(), Accumulate::Overwrite).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

/// Wide products are split over threads by columns, narrow ones (64 columns: a small input's
/// weight gradient) by rows, A as it is or transposed; neither may change a bit.
#[cfg(feature = "parallel")]
#[test]
fn threads_give_the_same_bits_as_one_thread() {
    for (m, k, n, transposed) in [(64, 255, 1000, false), (1030, 300, 64, false), (1024, 700, 64, true)] {
        let mut rng = Rng(5);
        let (a, b) = (rng.vec_f32(m * k), rng.vec_f32(k * n));
        let a_view = || if transposed { MatRef::new(&a, k, m).unwrap().t() } else { MatRef::new(&a, m, k).unwrap() };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut c = vec![0.0f32; m * n];
            pool.install(|| gemm(a_view(), MatRef::new(&b, k, n).unwrap(), MatMut::new(&mut c, m, n).unwrap(), Accumulate::Overwrite)).unwrap();
            // And from panels packed once, split over the same ranges.
            let packed = PackedB::new(MatRef::new(&b, k, n).unwrap());
            let mut from_panels = vec![0.0f32; m * n];
            pool.install(|| gemm_packed(a_view(), &packed, MatMut::new(&mut from_panels, m, n).unwrap(), Accumulate::Overwrite)).unwrap();
            assert!(c.iter().zip(&from_panels).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}×{k}×{n}, {threads} threads: packed differs");
            c
        };
        let one = run(1);
        let at = |i: usize, p: usize| if transposed { a[p * m + i] } else { a[i * k + p] };
        assert_close(&one, &naive(m, k, n, at, |p, j| b[p * n + j]), k, &format!("{m}×{k}×{n}, 1 thread"));
        for threads in [2, 3] {
            assert!(run(threads).iter().zip(&one).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}×{k}×{n}: {threads} threads differ from 1");
        }
    }
}

/// A streaming step's product (a few rows against a large Wᵀ) is shared out over threads in
/// blocks of W's rows; the blocks may not change a bit, in either mode, nor leave a row out.
#[cfg(feature = "parallel")]
#[test]
fn a_few_rows_split_over_threads_give_the_same_bits_as_one_thread() {
    for (m, k, n) in [(1, 256, 1030), (3, 300, 1000)] {
        let mut rng = Rng(6);
        let (x, w, c0) = (rng.vec_f32(m * k), rng.vec_f32(n * k), rng.vec_f32(m * n));
        for mode in [Accumulate::Overwrite, Accumulate::Add] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut c = c0.clone();
                pool.install(|| gemm(MatRef::new(&x, m, k).unwrap(), MatRef::new(&w, n, k).unwrap().t(), MatMut::new(&mut c, m, n).unwrap(), mode)).unwrap();
                c
            };
            let one = run(1);
            let want = naive(m, k, n, |i, p| x[i * k + p], |p, j| w[j * k + p]);
            let want: Vec<f64> = if mode == Accumulate::Add { want.iter().zip(&c0).map(|(v, &c)| v + c as f64).collect() } else { want };
            assert_close(&one, &want, k, &format!("{m}×{k}·({n}×{k})ᵀ {mode:?}, 1 thread"));
            for threads in [2, 3] {
                assert!(run(threads).iter().zip(&one).all(|(a, b)| a.to_bits() == b.to_bits()), "{m}×{k}·({n}×{k})ᵀ {mode:?}: {threads} threads differ from 1");
            }
        }
    }
}
