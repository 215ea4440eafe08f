//! Named parameters, the same for every kind of model: what optimizers update, and what is read
//! and set by name (for saving, loading and gradient checks).

use crate::real::Real;
use crate::{Error, Result};

pub trait Parameters<T: Real> {
    /// Every parameter under its name, in a fixed order.
    fn named(&self) -> Vec<(String, &[T])>;
    /// The parameters in the order of `named`.
    fn values_mut(&mut self) -> Vec<&mut Vec<T>>;
    /// What errors call the owner (`model`, `seq2seq`).
    fn owner(&self) -> &'static str;

    fn parameter(&self, name: &str) -> Result<&[T]> {
        self.named().into_iter().find(|(n, _)| n == name).map(|(_, p)| p).ok_or_else(|| unknown(self, name))
    }

    /// Sets a parameter's values; they must be as many as it has, and finite.
    fn set_parameter(&mut self, name: &str, values: &[T]) -> Result<()> {
        let index = self.named().iter().position(|(n, _)| n == name).ok_or_else(|| unknown(self, name))?;
        let owner = self.owner();
        let target = &mut self.values_mut()[index];
        if target.len() != values.len() {
            return Err(Error::shape(format!("{owner} parameter {name}"), format!("{} values", target.len()), format!("{} values", values.len())));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::numeric(format!("{owner} parameter {name}"), format!("value {i} is {:?}", values[i])));
        }
        target.copy_from_slice(values);
        Ok(())
    }
}

fn unknown<T: Real, P: Parameters<T> + ?Sized>(p: &P, name: &str) -> Error {
    let known: Vec<String> = p.named().into_iter().map(|(n, _)| n).collect();
    Error::config(p.owner(), format!("no parameter named `{name}` (it has {})", known.join(", ")))
}
