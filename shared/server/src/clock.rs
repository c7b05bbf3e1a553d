//! The time a service's use cases see. Production reads the system clock; tests hand a service
//! a manual clock and move it forward, so nothing has to sleep for time to pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A source of "now", in UTC microseconds. Cheap to clone; clones share a manual clock's time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `start_micros` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start_micros: i64) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start_micros))),
        }
    }

    /// A manual clock starting at the system's now.
    pub fn manual_from_now() -> Self {
        Self::manual(kefu_db::time::now_micros())
    }

    /// Now, in microseconds since the Unix epoch (UTC).
    pub fn now_micros(&self) -> i64 {
        match &self.manual {
            Some(manual) => manual.load(Ordering::SeqCst),
            None => kefu_db::time::now_micros(),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved and ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual {
            let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
            manual.fetch_add(micros, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock; the system clock ignores it.
    pub fn set(&self, micros: i64) {
        if let Some(manual) = &self.manual {
            manual.store(micros, Ordering::SeqCst);
        }
    }

    /// True for a manual clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now_micros(), 1_000);
        clock.advance(Duration::from_millis(2));
        assert_eq!(clone.now_micros(), 3_000);
        clone.set(10);
        assert_eq!(clock.now_micros(), 10);
        let system = Clock::system();
        let before = system.now_micros();
        system.advance(Duration::from_secs(3600));
        assert!(system.now_micros() - before < 3_600_000_000);
    }
}
