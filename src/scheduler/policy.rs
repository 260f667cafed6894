//! Retry policy: how many attempts a node gets and how long to wait between them.

use std::time::Duration;

use crate::script::{RetryStrategy, TaskOptions};

/// The delays between attempts, derived from a task's retry options.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RetryPolicy {
    pub(crate) retries: u32,
    pub(crate) base: Duration,
    pub(crate) strategy: RetryStrategy,
    pub(crate) max: Option<Duration>,
    /// Up to this fraction of each delay is added or removed at random.
    pub(crate) jitter: f64,
}

impl RetryPolicy {
    pub(crate) fn from_options(o: &TaskOptions) -> Self {
        Self {
            retries: o.retries,
            base: o.retry_backoff,
            strategy: o.retry_strategy,
            max: o.retry_max_backoff,
            jitter: o.retry_jitter,
        }
    }

    /// The delay before attempt `next` (2 for the first retry), or `None` when attempts are
    /// used up. `random` is a number in `0..1` used for jitter.
    pub(crate) fn delay_before(&self, next: u32, random: f64) -> Option<Duration> {
        if next < 2 || next > self.retries + 1 {
            return None;
        }
        let retry = next - 2;
        let raw = match self.strategy {
            RetryStrategy::Fixed => self.base,
            RetryStrategy::Exponential => {
                self.base.saturating_mul(2u32.saturating_pow(retry.min(31)))
            }
        };
        let capped = self.max.map_or(raw, |m| raw.min(m));
        let factor = 1.0 + self.jitter * (2.0 * random - 1.0);
        Some(capped.mul_f64(factor.max(0.0)))
    }
}

/// A cheap, well-spread random number in `0..1` for jitter; not for anything secret.
pub(crate) fn jitter_sample(seed: u64) -> f64 {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(strategy: RetryStrategy, max: Option<Duration>, jitter: f64) -> RetryPolicy {
        RetryPolicy {
            retries: 4,
            base: Duration::from_millis(100),
            strategy,
            max,
            jitter,
        }
    }

    #[test]
    fn exponential_doubles_and_caps() {
        let p = policy(
            RetryStrategy::Exponential,
            Some(Duration::from_millis(300)),
            0.0,
        );
        let delays: Vec<_> = (2..=6).map(|n| p.delay_before(n, 0.5)).collect();
        let ms = |m| Some(Duration::from_millis(m));
        assert_eq!(delays, vec![ms(100), ms(200), ms(300), ms(300), None]);
    }

    #[test]
    fn fixed_keeps_the_base_delay() {
        let p = policy(RetryStrategy::Fixed, None, 0.0);
        assert_eq!(p.delay_before(5, 0.9), Some(Duration::from_millis(100)));
        assert_eq!(p.delay_before(1, 0.9), None);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let p = policy(RetryStrategy::Fixed, None, 0.5);
        assert_eq!(p.delay_before(2, 0.0), Some(Duration::from_millis(50)));
        assert_eq!(p.delay_before(2, 1.0), Some(Duration::from_millis(150)));
        for seed in 0..1000 {
            assert!((0.0..1.0).contains(&jitter_sample(seed)));
        }
    }
}
