//! A lookup table from token ids to vectors (PyTorch `Embedding`, `weight [num, dim]`).

use crate::error::{elements, zeros};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct Embedding<T> {
    pub num: usize,
    pub dim: usize,
    pub weight: Vec<T>,
}

impl<T: Real> Embedding<T> {
    pub fn new(num: usize, dim: usize) -> Result<Self> {
        if num == 0 || dim == 0 {
            return Err(Error::config("Embedding layer", format!("vocabulary and dimension must be at least 1, got {num} and {dim}")));
        }
        Ok(Embedding { num, dim, weight: vec![T::zero(); num * dim] })
    }

    /// `[ids.len(), dim]`; every id must be below `num`.
    pub fn forward(&self, ids: &[u32]) -> Result<Vec<T>> {
        self.check_ids(ids)?;
        let mut y = zeros(&self.to_string(), elements(&self.to_string(), &[ids.len(), self.dim])?)?;
        for (row, &id) in y.chunks_exact_mut(self.dim).zip(ids) {
            let id = id as usize;
            row.copy_from_slice(&self.weight[id * self.dim..(id + 1) * self.dim]);
        }
        Ok(y)
    }

    /// The weight gradient: each row of `dy` added to its id's row (ids are not differentiable).
    pub fn backward(&self, ids: &[u32], dy: &[T]) -> Result<Vec<T>> {
        self.check_ids(ids)?;
        if dy.len() != ids.len() * self.dim {
            return Err(Error::shape(format!("{self}: dy"), format!("[{}, {}] = {} values", ids.len(), self.dim, ids.len() * self.dim), format!("{} values", dy.len())));
        }
        let mut weight = vec![T::zero(); self.weight.len()];
        for (row, &id) in dy.chunks_exact(self.dim).zip(ids) {
            let id = id as usize;
            weight[id * self.dim..(id + 1) * self.dim].iter_mut().zip(row).for_each(|(w, &g)| *w = *w + g);
        }
        Ok(weight)
    }

    fn check_ids(&self, ids: &[u32]) -> Result<()> {
        match ids.iter().position(|&id| id as usize >= self.num) {
            Some(i) => Err(Error::shape(format!("{self}: ids"), format!("ids below {}", self.num), format!("{} at position {i}", ids[i]))),
            None => Ok(()),
        }
    }
}

impl<T> std::fmt::Display for Embedding<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding layer ({} × {})", self.num, self.dim)
    }
}
