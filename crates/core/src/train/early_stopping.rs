//! Early stopping (Keras `EarlyStopping`): stop when the monitored value has not improved by
//! more than `min_delta` for `patience` epochs, and optionally go back to the best weights.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Improved,
    Waiting,
    Stop,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    pub mode: Mode,
    pub patience: usize,
    pub min_delta: f64,
    pub restore_best_weights: bool,
    pub best: Option<f64>,
    pub best_epoch: Option<usize>,
    epochs: usize,
    wait: usize,
}

impl EarlyStopping {
    pub fn new(mode: Mode, patience: usize, min_delta: f64, restore_best_weights: bool) -> Self {
        EarlyStopping { mode, patience, min_delta: min_delta.abs(), restore_best_weights, best: None, best_epoch: None, epochs: 0, wait: 0 }
    }

    /// Takes one epoch's value. A NaN never counts as an improvement.
    pub fn observe(&mut self, value: f64) -> Verdict {
        let epoch = self.epochs;
        self.epochs += 1;
        let better = match (self.best, self.mode) {
            (_, _) if value.is_nan() => false,
            (None, _) => true,
            (Some(best), Mode::Min) => value < best - self.min_delta,
            (Some(best), Mode::Max) => value > best + self.min_delta,
        };
        if better {
            self.best = Some(value);
            self.best_epoch = Some(epoch);
            self.wait = 0;
            return Verdict::Improved;
        }
        self.wait += 1;
        if self.wait > self.patience {
            Verdict::Stop
        } else {
            Verdict::Waiting
        }
    }
}
