//! Skills-based routing and account owners: a ticket goes to an agent holding every skill its
//! group's rules ask for, and a customer's dedicated agent gets their tickets first.

use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use pb::skill_rule::When;
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    skills_based_routing_gives_tickets_to_agents_with_every_skill,
    skill_rules_naming_unknown_skills_or_nothing_are_refused,
    the_account_owner_takes_their_customers_tickets_first,
    going_offline_gives_tickets_back_where_the_group_asks
);

fn rule(when: When, skills: &[&str]) -> pb::SkillRule {
    pb::SkillRule {
        when: Some(when),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
    }
}

async fn give_skills(admin: &mut Client, agent: &str, skills: &[&str]) {
    admin
        .update_agent(pb::UpdateAgentRequest {
            agent: Some(pb::Agent {
                name: format!("agents/{agent}"),
                skills: skills.iter().map(|s| (*s).to_owned()).collect(),
                ..Default::default()
            }),
            update_mask: mask(&["skills"]),
            etag: String::new(),
        })
        .await
        .unwrap();
}

fn in_category(requester: &str, subject: &str, group: &pb::Group, category: &str) -> pb::Ticket {
    pb::Ticket {
        category: category.into(),
        ..in_group(requester, subject, group)
    }
}

async fn skills_based_routing_gives_tickets_to_agents_with_every_skill(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let chinese_speaker = app
        .customer_with(cpb::Customer {
            display_name: "Wang Fang".into(),
            locale: "zh-CN".into(),
            ..Default::default()
        })
        .await;
    let english_speaker = app.customer_record("Ann", common::Tier::Standard).await;
    let plain = group(&mut admin, "Support").await;
    for (id, skills) in [
        ("a-billing", &["billing"][..]),
        ("b-both", &["billing", "chinese"][..]),
        ("c-none", &[][..]),
    ] {
        agent(&mut admin, id, &[&plain]).await;
        give_skills(&mut admin, id, skills).await;
    }
    let support = admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: plain.name.clone(),
                routing: pb::RoutingMethod::SkillsBased as i32,
                skill_rules: vec![
                    rule(When::Category("Billing".into()), &["billing"]),
                    rule(When::Locale("ZH".into()), &["chinese"]),
                ],
                ..Default::default()
            }),
            update_mask: mask(&["routing", "skill_rules"]),
            etag: plain.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(support.skill_rules.len(), 2);
    assert_eq!(
        support.skill_rules[1].when,
        Some(When::Locale("zh".into())),
        "stored as matched: lower-cased"
    );

    let refund = in_category(&chinese_speaker, "退款", &support, "Billing/Refund");
    let refund = create(&mut admin, refund).await;
    assert_eq!(refund.assignee, "agents/b-both", "only b holds both skills");
    let how = routed_how(&mut admin, &refund.name).await;
    assert!(
        how.contains("SKILLS_BASED, needs billing, chinese"),
        "{how}"
    );

    let invoice = in_category(&english_speaker, "Invoice", &support, "Billing");
    let invoice = create(&mut admin, invoice).await;
    assert_eq!(invoice.assignee, "agents/a-billing", "a is lighter than b");

    // Matching no rule: anyone, least loaded first.
    let other = in_category(&english_speaker, "Login", &support, "Accounts");
    let other = create(&mut admin, other).await;
    assert_eq!(other.assignee, "agents/c-none");

    // b is full: a Chinese-speaking billing ticket waits, although a and c have room, while an
    // English billing ticket behind it in the queue goes on to a.
    set_capacity(&mut admin, "b-both", 1).await;
    let waiting = create(
        &mut admin,
        in_category(&chinese_speaker, "发票", &support, "Billing"),
    )
    .await;
    assert_eq!(waiting.assignee, "", "nobody with both skills has room");
    set_capacity(&mut admin, "a-billing", 1).await;
    let behind = create(
        &mut admin,
        in_category(&english_speaker, "Second invoice", &support, "Billing"),
    )
    .await;
    assert_eq!(behind.assignee, "", "a is full too");
    set_capacity(&mut admin, "a-billing", 2).await;
    assert_eq!(
        get(&mut admin, &behind.name).await.assignee,
        "agents/a-billing"
    );
    assert_eq!(get(&mut admin, &waiting.name).await.assignee, "");

    // c learns both skills: the waiting ticket is theirs.
    give_skills(&mut admin, "c-none", &["billing", "chinese"]).await;
    let waiting = get(&mut admin, &waiting.name).await;
    assert_eq!(waiting.assignee, "agents/c-none");
    assert_eq!(status(&waiting), pb::TicketStatus::Open);
}

async fn skill_rules_naming_unknown_skills_or_nothing_are_refused(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let support = group(&mut admin, "Support").await;
    agent(&mut admin, "a1", &[&support]).await;
    give_skills(&mut admin, "a1", &["billing"]).await;
    let refused = admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: support.name.clone(),
                skill_rules: vec![rule(When::Tag("vip".into()), &["billing", "vip-care"])],
                ..Default::default()
            }),
            update_mask: mask(&["skill_rules"]),
            etag: String::new(),
        })
        .await;
    let status = assert_status(
        refused,
        Code::InvalidArgument,
        &["group.skill_rules[0].skills[1]"],
    );
    assert!(status.message().contains("vip-care") || format!("{status:?}").contains("vip-care"));
    let malformed = admin
        .create_group(pb::CreateGroupRequest {
            request_id: String::new(),
            group: Some(pb::Group {
                display_name: "Billing".into(),
                routing: pb::RoutingMethod::SkillsBased as i32,
                skill_rules: vec![
                    pb::SkillRule {
                        when: None,
                        skills: vec!["billing".into()],
                    },
                    rule(When::TicketType(99), &["billing"]),
                    rule(When::Locale("not a locale".into()), &["billing"]),
                    rule(When::Category(String::new()), &[]),
                ],
                ..Default::default()
            }),
        })
        .await;
    assert_status(
        malformed,
        Code::InvalidArgument,
        &[
            "group.skill_rules[0]",
            "group.skill_rules[1].ticket_type",
            "group.skill_rules[2].locale",
            "group.skill_rules[3].category",
            "group.skill_rules[3].skills",
        ],
    );
    // Nothing was written.
    let groups = admin
        .list_groups(pb::ListGroupsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .groups;
    assert_eq!(groups, vec![support], "no new group, no rules");
}

async fn the_account_owner_takes_their_customers_tickets_first(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    let manual = group(&mut admin, "Key accounts").await;
    agent(&mut admin, "a1", &[&support]).await;
    agent(&mut admin, "owner", &[&support, &manual]).await;
    agent(&mut admin, "outsider", &[]).await;
    let vip = app
        .customer_with(cpb::Customer {
            display_name: "Big Co buyer".into(),
            tier: common::Tier::Vip as i32,
            account_owner: "agents/owner".into(),
            ..Default::default()
        })
        .await;
    // a1's turn, by round robin; the owner takes it anyway, without using up a turn.
    let first = create(&mut admin, in_group(&vip, "Order late", &support)).await;
    assert_eq!(first.assignee, "agents/owner");
    assert_eq!(status(&first), pb::TicketStatus::Open);
    let how = routed_how(&mut admin, &first.name).await;
    assert!(how.contains("account owner"), "{how}");
    let ann = app.customer_record("Ann", common::Tier::Standard).await;
    let next = create(&mut admin, in_group(&ann, "Question", &support)).await;
    assert_eq!(next.assignee, "agents/a1", "the turn was not used up");
    // A group routed by hand, and no group at all: still the owner's.
    let by_hand = create(&mut admin, in_group(&vip, "Contract", &manual)).await;
    assert_eq!(by_hand.assignee, "agents/owner");
    let no_group = create(&mut admin, new_ticket(&vip, "Call me")).await;
    assert_eq!(no_group.assignee, "agents/owner");

    // Away or full, the owner is passed over and the group routes as usual.
    let mut owner = app.agent("owner");
    availability(&mut owner, "owner", pb::AgentAvailability::Away)
        .await
        .unwrap();
    let while_away = create(&mut admin, in_group(&vip, "Urgent", &support)).await;
    assert_eq!(while_away.assignee, "agents/a1");
    availability(&mut owner, "owner", pb::AgentAvailability::Online)
        .await
        .unwrap();
    set_capacity(&mut admin, "owner", 3).await;
    let over = create(&mut admin, in_group(&vip, "Another", &support)).await;
    assert_eq!(
        over.assignee, "agents/a1",
        "the owner has three open tickets"
    );

    // An owner outside the ticket's group is passed over too.
    let outsider_customer = app
        .customer_with(cpb::Customer {
            display_name: "Small Co".into(),
            account_owner: "agents/outsider".into(),
            ..Default::default()
        })
        .await;
    let t = create(&mut admin, in_group(&outsider_customer, "Hello", &support)).await;
    assert_ne!(t.assignee, "agents/outsider");
}

async fn going_offline_gives_tickets_back_where_the_group_asks(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let customer = app.customer_record("Ann", common::Tier::Standard).await;
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    let support = admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: support.name.clone(),
                reassign_when_offline: true,
                ..Default::default()
            }),
            update_mask: mask(&["reassign_when_offline"]),
            etag: support.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(support.reassign_when_offline);
    let keeps = routed_group(&mut admin, "Keeps", pb::RoutingMethod::RoundRobin).await;
    agent(&mut admin, "a1", &[&support, &keeps]).await;
    agent(&mut admin, "a2", &[&support]).await;
    let first = create(&mut admin, in_group(&customer, "One", &support)).await;
    let second = create(&mut admin, in_group(&customer, "Two", &support)).await;
    let kept = create(&mut admin, in_group(&customer, "Kept", &keeps)).await;
    assert_eq!(
        [&first.assignee, &second.assignee, &kept.assignee],
        ["agents/a1", "agents/a2", "agents/a1"]
    );
    // AWAY keeps everything.
    let mut a1 = app.agent("a1");
    availability(&mut a1, "a1", pb::AgentAvailability::Away)
        .await
        .unwrap();
    assert_eq!(get(&mut admin, &first.name).await.assignee, "agents/a1");
    // OFFLINE gives Support's ticket back, to a2; Keeps' stays.
    availability(&mut a1, "a1", pb::AgentAvailability::Offline)
        .await
        .unwrap();
    let first = get(&mut admin, &first.name).await;
    assert_eq!(first.assignee, "agents/a2");
    assert_eq!(status(&first), pb::TicketStatus::Open);
    assert_eq!(get(&mut admin, &kept.name).await.assignee, "agents/a1");
    let how = routed_how(&mut admin, &first.name).await;
    assert!(how.starts_with("agents/a2"), "{how}");

    // With nobody else free, a given-back ticket waits in the queue, then goes out.
    availability(&mut a1, "a1", pb::AgentAvailability::Online)
        .await
        .unwrap();
    set_capacity(&mut admin, "a2", 2).await;
    let third = create(&mut admin, in_group(&customer, "Three", &support)).await;
    assert_eq!(third.assignee, "agents/a1");
    availability(&mut a1, "a1", pb::AgentAvailability::Offline)
        .await
        .unwrap();
    let third = get(&mut admin, &third.name).await;
    assert_eq!(third.assignee, "", "a2 is full: it waits");
    set_capacity(&mut admin, "a2", 3).await;
    assert_eq!(get(&mut admin, &third.name).await.assignee, "agents/a2");
}
