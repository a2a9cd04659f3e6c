//! RFC 3339 text of a time for messages, written the same way by the plugin and cosign-compat.

use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `t` in UTC to the whole second (`2030-03-17T17:46:40Z`): certificate validity and envelope
/// times, which carry no fraction.
pub fn rfc3339(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    format(t.replace_nanosecond(0).unwrap_or(t))
}

/// `t` in UTC with its fraction of a second when it has one (`2030-03-17T17:46:40.5Z`): the
/// wall-clock time a check ran at.
pub fn rfc3339_with_fraction(t: SystemTime) -> String {
    format(OffsetDateTime::from(t))
}

fn format(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| format!("{t:?}"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn whole_seconds_drop_the_fraction_and_precise_keeps_it() {
        let t = UNIX_EPOCH + Duration::from_millis(1_900_000_000_500);
        assert_eq!(rfc3339(t), "2030-03-17T17:46:40Z");
        assert_eq!(rfc3339_with_fraction(t), "2030-03-17T17:46:40.5Z");
        let whole = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        assert_eq!(rfc3339_with_fraction(whole), "2030-03-17T17:46:40Z");
    }
}
