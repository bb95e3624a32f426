//! The result a probe reports, from the outcomes of its attempts: it changes
//! only after `success_threshold` consecutive successes or
//! `failure_threshold` consecutive failures (Kubernetes' prober worker).

#[derive(Debug)]
pub struct Thresholds {
    success_threshold: u32,
    failure_threshold: u32,
    /// What the probe reports now.
    healthy: bool,
    /// The latest attempt's result and how many in a row had it.
    last: Option<bool>,
    run: u32,
}

impl Thresholds {
    /// Starts out reporting `healthy` (readiness starts unready, liveness alive).
    pub fn new(success_threshold: u32, failure_threshold: u32, healthy: bool) -> Thresholds {
        Thresholds { success_threshold, failure_threshold, healthy, last: None, run: 0 }
    }

    pub fn healthy(&self) -> bool {
        self.healthy
    }

    /// Counts one attempt; true when the reported result flipped.
    pub fn observe(&mut self, success: bool) -> bool {
        if self.last == Some(success) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(success);
            self.run = 1;
        }
        let threshold = if success { self.success_threshold } else { self.failure_threshold };
        if self.run < threshold || self.healthy == success {
            return false;
        }
        self.healthy = success;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reported result after each attempt.
    fn reported(thresholds: &mut Thresholds, attempts: &str) -> String {
        attempts
            .chars()
            .map(|c| {
                thresholds.observe(c == '+');
                if thresholds.healthy() {
                    '+'
                } else {
                    '-'
                }
            })
            .collect()
    }

    #[test]
    fn readiness_needs_consecutive_successes_and_failures() {
        let mut readiness = Thresholds::new(2, 3, false);
        assert_eq!(reported(&mut readiness, "+-++--+---+"), "---++++++--");
    }

    #[test]
    fn default_thresholds_flip_after_one_success_and_three_failures() {
        let mut readiness = Thresholds::new(1, 3, false);
        assert_eq!(reported(&mut readiness, "+--+---+"), "++++++-+");
    }

    #[test]
    fn only_flips_are_reported() {
        let mut liveness = Thresholds::new(1, 2, true);
        let flips: Vec<bool> = [true, false, false, false, true, true].iter().map(|s| liveness.observe(*s)).collect();
        assert_eq!(flips, vec![false, false, true, false, true, false]);
    }
}
