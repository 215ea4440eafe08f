//! Matrix views over slices: strided for reading (so a transpose is free), dense for writing.

use crate::{Error, Result};

/// A read-only matrix over a slice: element (i, j) is `data[i·rs + j·cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T: Copy> MatRef<'a, T> {
    /// A dense row-major `rows × cols` matrix; the slice must hold exactly that many values.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Result<Self> {
        check_len("matrix", data.len(), rows, cols)?;
        Ok(MatRef { data, rows, cols, rs: cols, cs: 1 })
    }

    /// The leading `cols` columns of a row-major matrix whose rows are `row_stride` apart, e.g.
    /// one gate block of a `[rows, G·H]` matrix (slice `data` to start at the block).
    pub fn with_row_stride(data: &'a [T], rows: usize, cols: usize, row_stride: usize) -> Result<Self> {
        let needed = if rows == 0 || cols == 0 { 0 } else { (rows - 1) * row_stride + cols };
        if cols > row_stride || data.len() < needed {
            return Err(Error::shape("strided matrix", format!("{rows}×{cols} with rows {row_stride} apart = {needed} values"), format!("{} values", data.len())));
        }
        Ok(MatRef { data, rows, cols, rs: row_stride, cs: 1 })
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        MatRef { data: self.data, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Rows `rows` of the view, as a view of the same data.
    #[cfg(feature = "parallel")]
    pub(crate) fn row_range(self, rows: std::ops::Range<usize>) -> Self {
        MatRef { data: &self.data[(rows.start * self.rs).min(self.data.len())..], rows: rows.len(), ..self }
    }

    /// Row `i` as a slice, when the row is contiguous.
    pub(crate) fn row_slice(&self, i: usize) -> Option<&'a [T]> {
        (self.cs == 1).then(|| &self.data[i * self.rs..i * self.rs + self.cols])
    }

    /// Column `j` as a slice, when the column is contiguous (the view is a transpose).
    pub(crate) fn col_slice(&self, j: usize) -> Option<&'a [T]> {
        (self.rs == 1).then(|| &self.data[j * self.cs..j * self.cs + self.rows])
    }

    /// The data and the distance between columns, for reading contiguous columns (a transpose)
    /// straight from the slice: column j is `data[j·stride..j·stride + rows]`.
    pub(crate) fn columns(&self) -> Option<(&'a [T], usize)> {
        (self.rs == 1).then_some((self.data, self.cs))
    }

    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.rs + j * self.cs]
    }
}

/// A dense row-major matrix to write into.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
}

impl<'a, T> MatMut<'a, T> {
    pub fn new(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self> {
        check_len("output matrix", data.len(), rows, cols)?;
        Ok(MatMut { data, rows, cols })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub(crate) fn into_ptr(self) -> *mut T {
        self.data.as_mut_ptr()
    }
}

fn check_len(what: &str, len: usize, rows: usize, cols: usize) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::shape(what, format!("{rows}×{cols} = {} values", rows.saturating_mul(cols)), format!("{len} values"))),
    }
}
