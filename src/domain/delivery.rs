//! Delivering messages (REM-1, REM-2, ISS-4): the states of an outbox message and how long a
//! failed delivery waits before it is tried again.

use chrono::Duration;

/// Attempts before a message is marked failed (about 14 hours of retries).
pub const MAX_ATTEMPTS: i64 = 20;

/// The wait before attempt `n + 1` after `n` failed ones: 30 s doubling, at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    Duration::seconds((30i64 << exp).min(3600))
}

/// Where an outbox message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    Queued,
    Sent,
    /// Given up after `MAX_ATTEMPTS`; a person can retry it.
    Failed,
    /// Not sent on purpose (a reminder more than a day late), with the reason.
    Skipped,
}

impl DeliveryStatus {
    const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Queued,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(raw: &str) -> Option<DeliveryStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// After attempt number `attempts` failed: queued again, or failed at the last attempt.
    pub fn after_failure(attempts: i64) -> DeliveryStatus {
        if attempts >= MAX_ATTEMPTS {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Queued
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_half_a_minute_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(8), Duration::seconds(3600));
        assert_eq!(backoff(19), Duration::seconds(3600));
    }

    #[test]
    fn the_twentieth_failure_gives_up() {
        assert_eq!(DeliveryStatus::after_failure(1), DeliveryStatus::Queued);
        assert_eq!(DeliveryStatus::after_failure(19), DeliveryStatus::Queued);
        assert_eq!(DeliveryStatus::after_failure(20), DeliveryStatus::Failed);
        for s in ["queued", "sent", "failed", "skipped"] {
            assert_eq!(DeliveryStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
