//! The rules a new installation may start with: the auto-acknowledgement, a public reply in the
//! requester's language saying when the first answer is due (the SLA's first-response target,
//! in business hours, shown in the requester's time zone).

use super::trigger::{Action, Condition, EventKind, Field, Operator, TriggerRecord};

/// The Chinese acknowledgement's body.
pub const ACKNOWLEDGE_ZH: &str = "{{ requester.name }}您好，我们已收到您的工单“{{ ticket.subject }}”\
（编号 {{ ticket.id }}）。{% if ticket.first_response_due %}客服将在 {{ ticket.first_response_due }}\
（{{ requester.time_zone }}）前回复您。{% else %}客服会尽快回复您。{% endif %}";

/// The English acknowledgement's body.
pub const ACKNOWLEDGE_EN: &str = "Hello {{ requester.name }}, we have received your request \
\"{{ ticket.subject }}\" (ticket {{ ticket.id }}). {% if ticket.first_response_due %}An agent \
will answer by {{ ticket.first_response_due }} ({{ requester.time_zone }}).{% else %}An agent \
will answer as soon as possible.{% endif %}";

/// The two acknowledgement triggers (Chinese for `zh*` locales, English for every other), with
/// fixed ids so installing them twice is harmless, created at `now`.
pub fn acknowledgements(now: i64) -> [TriggerRecord; 2] {
    let rule = |id: &str, name: &str, operator: Operator, body: &str| TriggerRecord {
        id: id.to_owned(),
        display_name: name.to_owned(),
        description: "Installed by default: tells the requester their ticket arrived and when \
                      the first answer is due."
            .to_owned(),
        active: true,
        position: -100,
        events: vec![EventKind::TicketCreated],
        schedule: None,
        all_conditions: vec![Condition {
            field: Field::RequesterLocale,
            operator,
            value: "zh".to_owned(),
        }],
        any_conditions: Vec::new(),
        actions: vec![Action::Reply {
            body: body.to_owned(),
            public: true,
        }],
        stop_processing: false,
        create_time: now,
        update_time: now,
        version: 1,
    };
    [
        rule(
            "acknowledge-zh",
            "自动确认（中文）",
            Operator::Is,
            ACKNOWLEDGE_ZH,
        ),
        rule(
            "acknowledge-en",
            "Auto-acknowledge (English)",
            Operator::IsNot,
            ACKNOWLEDGE_EN,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::evaluate::{ActorKind, EventFacts, TicketFacts, evaluate};
    use crate::domain::template::{check, render};

    fn ticket(locale: &str, zone: &str, due: Option<i64>) -> TicketFacts {
        TicketFacts {
            id: "t1".into(),
            subject: "退款".into(),
            requester_name: "王芳".into(),
            requester_locale: locale.into(),
            requester_time_zone: zone.into(),
            // 2026-12-05 09:30 UTC.
            first_response_due: due,
            ..TicketFacts::default()
        }
    }

    #[test]
    fn each_requester_gets_one_acknowledgement_in_their_language_with_a_local_due_time() {
        let [zh, en] = acknowledgements(0);
        assert!(check(ACKNOWLEDGE_ZH).is_ok() && check(ACKNOWLEDGE_EN).is_ok());
        let event = EventFacts {
            kinds: vec![EventKind::TicketCreated],
            changed: Vec::new(),
            actor: ActorKind::Agent,
            comment: String::new(),
            time: 1,
        };
        let due = Some(1_796_463_000_000_000);
        for (locale, chinese) in [
            ("zh-CN", true),
            ("zh_TW", true),
            ("en-GB", false),
            ("", false),
        ] {
            let t = ticket(locale, "Asia/Shanghai", due);
            assert_eq!(evaluate(&zh, &t, &event).fires(), chinese, "{locale}");
            assert_eq!(evaluate(&en, &t, &event).fires(), !chinese, "{locale}");
        }
        let text = render(
            ACKNOWLEDGE_ZH,
            &ticket("zh-CN", "Asia/Shanghai", due),
            "ack",
        );
        assert_eq!(
            text.as_deref(),
            Ok(
                "王芳您好，我们已收到您的工单“退款”（编号 t1）。客服将在 2026-12-05 17:30（Asia/Shanghai）前回复您。"
            )
        );
        let text = render(ACKNOWLEDGE_EN, &ticket("en", "", None), "ack");
        assert_eq!(
            text.as_deref(),
            Ok(
                "Hello 王芳, we have received your request \"退款\" (ticket t1). An agent will answer as soon as possible."
            )
        );
        let text = render(ACKNOWLEDGE_EN, &ticket("en", "Nowhere/Else", due), "ack");
        assert!(text.is_ok_and(|t| t.contains("by 2026-12-05 09:30 (UTC)")));
    }
}
