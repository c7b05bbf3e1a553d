//! Records to proto messages.

use kefu_proto::feedback::v1 as pb;
use kefu_server::common::{Channel, LifecycleStage, Tier};
use kefu_server::time::timestamp;

use crate::domain::kinds::FollowUpState;
use crate::domain::records::{CampaignRecord, FeedbackRecord, FollowUpRecord, SurveyRecord};
use crate::domain::survey;
use crate::store::SummaryRow;

fn follow_up(f: Option<&FollowUpRecord>) -> Option<pb::FollowUp> {
    f.map(|f| pb::FollowUp {
        state: f.state.number(),
        ticket: f.ticket.clone().unwrap_or_default(),
        failure: if f.state == FollowUpState::Failed {
            f.failure.clone()
        } else {
            String::new()
        },
    })
}

/// A survey as `viewer` may see it at `now` (the token only for those who may answer it).
pub(super) fn survey(s: &SurveyRecord, show_token: bool, now: i64) -> pb::Survey {
    pb::Survey {
        name: format!("surveys/{}", s.id),
        kind: s.kind.number(),
        customer: format!("customers/{}", s.customer_id),
        ticket: s
            .ticket_id
            .as_ref()
            .map(|t| format!("tickets/{t}"))
            .unwrap_or_default(),
        ticket_snapshot: s.ticket_id.as_ref().map(|_| pb::TicketSnapshot {
            assignee: s.assignee.clone(),
            group: s.group_name.clone(),
            channel: s.channel.map_or(0, Channel::number),
            r#type: s.ticket_type.clone(),
        }),
        campaign: s
            .campaign_id
            .as_ref()
            .map(|c| format!("npsCampaigns/{c}"))
            .unwrap_or_default(),
        state: survey::state(s, now).number(),
        token: if show_token {
            s.token.clone()
        } else {
            String::new()
        },
        create_time: Some(timestamp(s.create_time)),
        expire_time: Some(timestamp(s.expire_time)),
        response: s.answer.as_ref().map(|a| pb::SurveyResponse {
            score: Some(a.score),
            reason_codes: a.reason_codes.clone(),
            comment: a.comment.clone(),
            submit_time: Some(timestamp(a.submit_time)),
            anonymized: s.anonymized,
        }),
        follow_up: follow_up(s.follow_up.as_ref()),
    }
}

/// A feedback entry.
pub(super) fn feedback(e: &FeedbackRecord) -> pb::FeedbackEntry {
    pb::FeedbackEntry {
        name: format!("feedback/{}", e.id),
        kind: e.kind.number(),
        customer: format!("customers/{}", e.customer_id),
        text: e.body.clone(),
        channel: e.channel.number(),
        ticket: e
            .ticket_id
            .as_ref()
            .map(|t| format!("tickets/{t}"))
            .unwrap_or_default(),
        state: e.state.number(),
        complaint_ticket: follow_up(e.follow_up.as_ref()),
        resolve_time: e.resolve_time.map(timestamp),
        anonymized: e.anonymized,
        create_time: Some(timestamp(e.create_time)),
        update_time: Some(timestamp(e.update_time)),
    }
}

/// A campaign.
pub(super) fn campaign(c: &CampaignRecord) -> pb::NpsCampaign {
    let filter = &c.segment;
    let has_filter = c.segment.customers.is_empty();
    pb::NpsCampaign {
        name: format!("npsCampaigns/{}", c.id),
        display_name: c.display_name.clone(),
        segment: Some(pb::Segment {
            customers: c
                .segment
                .customers
                .iter()
                .map(|id| format!("customers/{id}"))
                .collect(),
            filter: has_filter.then(|| pb::CustomerFilter {
                tag: filter.tag.clone(),
                tier: filter.tier.map_or(0, Tier::number),
                lifecycle_stage: filter.lifecycle_stage.map_or(0, LifecycleStage::number),
                organization: if filter.organization.is_empty() {
                    String::new()
                } else {
                    format!("organizations/{}", filter.organization)
                },
            }),
        }),
        survey_count: i32::try_from(c.survey_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(c.create_time)),
    }
}

/// A summary row.
pub(super) fn row(r: &SummaryRow) -> pb::SatisfactionRow {
    pb::SatisfactionRow {
        key: r.key.clone(),
        csat_surveys: r.csat_surveys,
        csat_responses: r.csat_responses,
        csat_response_rate: r.csat_response_rate,
        csat_percent: r.csat_percent,
        csat_average: r.csat_average,
        nps_surveys: r.nps_surveys,
        nps_responses: r.nps_responses,
        nps_response_rate: r.nps_response_rate,
        promoters: r.promoters,
        passives: r.passives,
        detractors: r.detractors,
        nps: r.nps,
    }
}

#[cfg(test)]
mod tests {
    use kefu_server::numbered::assert_matches_contract;
    use kefu_server::numbered_pairs;

    use super::*;
    use crate::domain::kinds::{FeedbackKind, FeedbackState, SurveyKind, SurveyState};

    #[test]
    fn domain_enums_match_the_contract() {
        let name = |n| pb::SurveyKind::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(SurveyKind), name);
        let name = |n| pb::SurveyState::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(SurveyState), name);
        let name = |n| pb::FeedbackKind::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(FeedbackKind), name);
        let name = |n| pb::FeedbackState::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(FeedbackState), name);
        let name = |n| pb::FollowUpState::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(FollowUpState), name);
    }
}
