//! Reply templates: checked when a trigger is saved (an unknown placeholder is refused) and
//! rendered when it fires. Rendering is sandboxed — no includes, no I/O, bounded work — and a
//! value is inserted as text, never evaluated.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};

use super::evaluate::TicketFacts;

/// Longest template, and longest rendered text, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Work a template may do when rendered (minijinja's fuel: about one unit per instruction).
const FUEL: u64 = 100_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Comments are plain text: nothing to escape for, and `&` must stay `&`.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env
}

/// Renders `body` for `ticket`, as trigger `trigger_name`.
pub fn render(body: &str, ticket: &TicketFacts, trigger_name: &str) -> Result<String, String> {
    let sla_due_time = ticket
        .sla_due_time
        .map(|micros| {
            prost_types::Timestamp {
                seconds: micros.div_euclid(1_000_000),
                nanos: 0,
            }
            .to_string()
        })
        .unwrap_or_default();
    let zone = time_zone(&ticket.requester_time_zone);
    let first_response_due = ticket
        .first_response_due
        .map(|micros| local_minute(micros, zone))
        .unwrap_or_default();
    let values = context! {
        ticket => context! {
            first_response_due => first_response_due,
            id => ticket.id,
            subject => ticket.subject,
            status => ticket.status,
            priority => ticket.priority,
            group => ticket.group,
            assignee => ticket.assignee,
            sla_due_time => sla_due_time,
        },
        requester => context! {
            name => ticket.requester_name,
            tier => ticket.requester_tier,
            locale => ticket.requester_locale,
            time_zone => zone.name(),
        },
        trigger => context! { name => trigger_name },
    };
    let env = environment();
    let text = env
        .render_str(body, values)
        .map_err(|error| describe(&error))?;
    if text.chars().count() > MAX_BODY_CHARS {
        return Err(format!("renders to more than {MAX_BODY_CHARS} characters"));
    }
    Ok(text)
}

/// The requester's time zone, UTC when unknown or not an IANA name.
fn time_zone(name: &str) -> chrono_tz::Tz {
    name.trim().parse().unwrap_or(chrono_tz::UTC)
}

/// `micros` as the minute it is in `zone`: `2026-12-05 17:30`.
fn local_minute(micros: i64, zone: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|utc| {
            utc.with_timezone(&zone)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Checks that `body` is a template that renders with the placeholders the contract names.
pub fn check(body: &str) -> Result<(), String> {
    let sample = TicketFacts {
        id: "sample".to_owned(),
        sla_due_time: Some(0),
        first_response_due: Some(0),
        ..TicketFacts::default()
    };
    render(body, &sample, "sample").map(|_| ())
}

fn describe(error: &minijinja::Error) -> String {
    match error.kind() {
        minijinja::ErrorKind::UndefinedError => {
            "uses an unknown placeholder; known: ticket.id, ticket.subject, ticket.status, \
             ticket.priority, ticket.group, ticket.assignee, ticket.sla_due_time, \
             ticket.first_response_due, requester.name, requester.tier, requester.locale, \
             requester.time_zone, trigger.name"
                .to_owned()
        }
        minijinja::ErrorKind::OutOfFuel => "does too much work to render".to_owned(),
        // The detail, not the error's own text: it says "syntax error", which reads like a
        // database's and tells the admin nothing more.
        _ => format!(
            "is not a valid template (line {}): {}",
            error.line().unwrap_or(1),
            error.detail().unwrap_or("cannot be parsed")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_render_and_values_are_not_evaluated() {
        let ticket = TicketFacts {
            id: "t1".into(),
            requester_name: "王芳 {{ ticket.id }} <b>&".into(),
            sla_due_time: Some(1_767_225_600_000_000),
            ..Default::default()
        };
        let text = render(
            "您好 {{ requester.name }}，工单 {{ ticket.id }} 将于 {{ ticket.sla_due_time }} 前回复",
            &ticket,
            "ack",
        );
        assert_eq!(
            text.as_deref(),
            Ok("您好 王芳 {{ ticket.id }} <b>&，工单 t1 将于 2026-01-01T00:00:00Z 前回复")
        );
    }

    #[test]
    fn unknown_placeholders_and_bad_syntax_are_refused() {
        assert!(check("Hello {{ requester.name }}").is_ok());
        let unknown = check("Hello {{ requester.email }}");
        assert!(unknown.is_err_and(|e| e.contains("unknown placeholder")));
        assert!(check("Hello {{ nobody }}").is_err());
        assert!(check("Hello {{ requester.name ").is_err());
        assert!(
            check(
                "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
            )
            .is_err()
        );
    }
}
