use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    merging_moves_comments_and_unmerging_puts_them_back,
    links_are_two_sided_and_keep_the_tree_sound
);

async fn comment_bodies(client: &mut Client, ticket: &str) -> Vec<String> {
    client
        .list_comments(pb::ListCommentsRequest {
            parent: ticket.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments
        .into_iter()
        .map(|c| c.body)
        .collect()
}

async fn merging_moves_comments_and_unmerging_puts_them_back(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Twice", common::Tier::Standard).await;
    let other_customer = app.customer_record("Else", common::Tier::Standard).await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-m", &[&team]).await;
    let mut as_customer = app.customer(&customer);
    let target = create(&mut as_customer, new_ticket(&customer, "Broken kettle")).await;
    let source = create(&mut as_customer, new_ticket(&customer, "Kettle again")).await;
    comment(&mut as_customer, &target.name, "first", true)
        .await
        .unwrap();
    comment(&mut as_customer, &source.name, "duplicate report", true)
        .await
        .unwrap();
    comment(&mut admin, &source.name, "internal: same issue", false)
        .await
        .unwrap();
    admin
        .set_ticket_pending(pb::SetTicketPendingRequest {
            request_id: String::new(),
            name: source.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();

    let merged_target = admin
        .merge_ticket(pb::MergeTicketRequest {
            request_id: String::new(),
            name: source.name.clone(),
            target: target.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(merged_target.name, target.name);
    let bodies = comment_bodies(&mut admin, &target.name).await;
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    assert!(bodies.contains(&"duplicate report".to_owned()));
    assert!(bodies.iter().any(|b| b.starts_with("Merged tickets/")));
    let closed_source = get(&mut admin, &source.name).await;
    assert_eq!(status(&closed_source), pb::TicketStatus::Closed);
    assert_eq!(closed_source.merged_into, target.name);
    assert!(comment_bodies(&mut admin, &source.name).await.is_empty());
    // The customer sees the moved public reply, not the internal notes.
    let seen = comment_bodies(&mut as_customer, &target.name).await;
    assert_eq!(seen, vec!["first", "duplicate report"]);
    // A merged (CLOSED) ticket cannot merge again, nor take comments.
    assert_status(
        admin
            .merge_ticket(pb::MergeTicketRequest {
                request_id: String::new(),
                name: source.name.clone(),
                target: target.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );

    let restored = admin
        .unmerge_ticket(pb::UnmergeTicketRequest {
            request_id: String::new(),
            name: source.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status(&restored),
        pb::TicketStatus::Pending,
        "back to its status before"
    );
    assert_eq!(restored.merged_into, "");
    assert!(restored.close_time.is_none());
    assert_eq!(
        comment_bodies(&mut admin, &source.name).await,
        vec!["duplicate report", "internal: same issue"]
    );
    let target_bodies = comment_bodies(&mut admin, &target.name).await;
    assert_eq!(
        target_bodies.len(),
        3,
        "first + merge note + unmerge note: {target_bodies:?}"
    );
    assert_status(
        admin
            .unmerge_ticket(pb::UnmergeTicketRequest {
                request_id: String::new(),
                name: source.name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    // Different requesters never merge; nor does a ticket into itself.
    let foreign = create(&mut admin, new_ticket(&other_customer, "Not theirs")).await;
    assert_status(
        admin
            .merge_ticket(pb::MergeTicketRequest {
                request_id: String::new(),
                name: foreign.name.clone(),
                target: target.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    // Merging a ticket into itself is a bad argument, not a state the ticket is in.
    assert_status(
        admin
            .merge_ticket(pb::MergeTicketRequest {
                request_id: String::new(),
                name: target.name.clone(),
                target: target.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["target"],
    );
    // Customers do not merge.
    assert_status(
        as_customer
            .merge_ticket(pb::MergeTicketRequest {
                request_id: String::new(),
                name: source.name.clone(),
                target: target.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    let audits = admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: source.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    let vias: Vec<&str> = audits.iter().map(|a| a.via.as_str()).collect();
    assert!(
        vias.ends_with(&["MergeTicket", "UnmergeTicket"]),
        "{vias:?}"
    );
}

async fn links_are_two_sided_and_keep_the_tree_sound(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Linker", common::Tier::Standard).await;
    let stranger = app
        .customer_record("Stranger", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let parent = create(&mut admin, new_ticket(&customer, "Outage")).await;
    let child = create(&mut admin, new_ticket(&customer, "Part of the outage")).await;
    let grandchild = create(&mut admin, new_ticket(&customer, "Part of the part")).await;
    let related = create(&mut admin, new_ticket(&stranger, "Same symptom elsewhere")).await;
    let link = |ticket: &str, other: &str, kind: pb::LinkKind| pb::LinkTicketsRequest {
        request_id: String::new(),
        link: Some(pb::TicketLink {
            ticket: ticket.into(),
            other: other.into(),
            kind: kind as i32,
            create_time: None,
        }),
    };
    admin
        .link_tickets(link(&parent.name, &child.name, pb::LinkKind::Child))
        .await
        .unwrap();
    admin
        .link_tickets(link(&child.name, &grandchild.name, pb::LinkKind::Child))
        .await
        .unwrap();
    admin
        .link_tickets(link(&parent.name, &related.name, pb::LinkKind::Related))
        .await
        .unwrap();
    let links_of = |name: String| {
        let mut client = app.admin();
        async move {
            client
                .list_ticket_links(pb::ListTicketLinksRequest { parent: name })
                .await
                .unwrap()
                .into_inner()
                .links
                .into_iter()
                .map(|l| (l.other, pb::LinkKind::try_from(l.kind).unwrap()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        links_of(child.name.clone()).await,
        vec![
            (parent.name.clone(), pb::LinkKind::Parent),
            (grandchild.name.clone(), pb::LinkKind::Child)
        ]
    );
    assert_eq!(
        links_of(related.name.clone()).await,
        vec![(parent.name.clone(), pb::LinkKind::Related)]
    );
    // A cycle, a second parent, a duplicate: refused by the tree's rules.
    for bad in [
        link(&grandchild.name, &parent.name, pb::LinkKind::Child),
        link(&related.name, &child.name, pb::LinkKind::Child),
        link(&child.name, &parent.name, pb::LinkKind::Related),
    ] {
        assert_status(admin.link_tickets(bad).await, Code::FailedPrecondition, &[]);
    }
    // A self-link is a bad argument.
    assert_status(
        admin
            .link_tickets(link(&child.name, &child.name, pb::LinkKind::Related))
            .await,
        Code::InvalidArgument,
        &["link.other"],
    );
    assert_status(
        admin
            .link_tickets(link(&child.name, &related.name, pb::LinkKind::Parent))
            .await,
        Code::InvalidArgument,
        &["link.kind"],
    );
    // The customer sees links between their own tickets only.
    let seen: Vec<String> = app
        .customer(&customer)
        .list_ticket_links(pb::ListTicketLinksRequest {
            parent: parent.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .links
        .into_iter()
        .map(|l| l.other)
        .collect();
    assert_eq!(seen, vec![child.name.clone()]);
    // Unlinking removes both ends; twice is NOT_FOUND.
    admin
        .unlink_tickets(pb::UnlinkTicketsRequest {
            ticket: related.name.clone(),
            other: parent.name.clone(),
        })
        .await
        .unwrap();
    assert!(links_of(related.name.clone()).await.is_empty());
    assert_eq!(links_of(parent.name.clone()).await.len(), 1);
    assert_status(
        admin
            .unlink_tickets(pb::UnlinkTicketsRequest {
                ticket: related.name.clone(),
                other: parent.name.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
}
