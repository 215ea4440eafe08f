//! A cell over the rows of a batch. Rows are independent, so with the `parallel` feature a large
//! batch is spread over threads: at two threads the cells were the largest part of a step left
//! on one thread. A row is computed by the same code whichever thread runs it, so the bits do
//! not depend on the thread count.

/// Below this many state values in a step, waking threads would cost more than the cells.
#[cfg(feature = "parallel")]
const PARALLEL_MIN_VALUES: usize = 4096;

/// Runs `cell` on every row; `values` (the step's state values) decides whether to use threads.
pub(super) fn for_each_row<R: Send>(rows: Vec<R>, values: usize, cell: impl Fn(R) + Sync + Send) {
    #[cfg(feature = "parallel")]
    if values >= PARALLEL_MIN_VALUES {
        use rayon::prelude::*;
        rows.into_par_iter().for_each(cell);
        return;
    }
    let _ = values;
    rows.into_iter().for_each(cell);
}

/// `data` as `batch` rows of equal width; a buffer the cell does not use (empty) gives empty rows.
pub(super) fn rows_mut<T>(data: &mut [T], batch: usize) -> Vec<&mut [T]> {
    if data.is_empty() {
        return (0..batch).map(|_| <&mut [T]>::default()).collect();
    }
    data.chunks_mut(data.len() / batch).collect()
}
