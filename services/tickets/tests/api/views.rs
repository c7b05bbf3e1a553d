//! Saved views: the three built in, personal and group-shared views, each run within the
//! viewer's scope with a count.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(views_run_for_their_viewer_and_are_shared_by_group);

async fn run(
    client: &mut Client,
    view: &str,
    page_size: i32,
) -> Result<pb::ListViewTicketsResponse, tonic::Status> {
    client
        .list_view_tickets(pb::ListViewTicketsRequest {
            name: view.into(),
            page_size,
            page_token: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The subjects a view shows `client`, and its count.
async fn shown(client: &mut Client, view: &str) -> (Vec<String>, i64) {
    let page = run(client, view, 0).await.unwrap();
    let subjects = page.tickets.into_iter().map(|t| t.subject).collect();
    (subjects, page.total_size)
}

async fn save(client: &mut Client, view: pb::View) -> Result<pb::View, tonic::Status> {
    client
        .create_view(pb::CreateViewRequest {
            view: Some(view),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn tagged(tag: &str, group: &str) -> pb::View {
    pb::View {
        display_name: format!("Tagged {tag}"),
        group: group.into(),
        filter: Some(pb::ViewFilter {
            tag: tag.into(),
            ..Default::default()
        }),
        order_by: "create_time desc".into(),
        ..Default::default()
    }
}

async fn views_run_for_their_viewer_and_are_shared_by_group(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Sun Li", common::Tier::Standard).await;
    let mut admin = app.admin();
    create_policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Half an hour".into(),
            first_response_minutes: 30,
            ..Default::default()
        },
    )
    .await;
    let billing = group(&mut admin, "Billing").await;
    let sales = group(&mut admin, "Sales").await;
    agent(&mut admin, "a1", &[&billing]).await;
    agent(&mut admin, "a2", &[&billing]).await;
    agent(&mut admin, "a3", &[&sales]).await;
    let vip = |t: pb::Ticket| pb::Ticket {
        tags: vec!["vip".into()],
        ..t
    };
    let mine = create(&mut admin, vip(in_group(&customer, "Mine", &billing))).await;
    assign(&mut admin, &mine.name, "agents/a1", "")
        .await
        .unwrap();
    create(
        &mut admin,
        vip(in_group(&customer, "Billing queue", &billing)),
    )
    .await;
    create(&mut admin, in_group(&customer, "Sales queue", &sales)).await;
    let done = create(&mut admin, in_group(&customer, "Done", &billing)).await;
    assign(&mut admin, &done.name, "agents/a1", "")
        .await
        .unwrap();
    admin
        .solve_ticket(pb::SolveTicketRequest {
            name: done.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    // The built-in views, for whoever runs them.
    let (mut a1, mut a3) = (app.agent("a1"), app.agent("a3"));
    let listed: Vec<String> = a1
        .list_views(pb::ListViewsRequest {})
        .await
        .unwrap()
        .into_inner()
        .views
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        listed,
        [
            "views/my-open-tickets",
            "views/unassigned-in-my-groups",
            "views/breaching-soon"
        ]
    );
    assert_eq!(
        shown(&mut a1, "views/my-open-tickets").await,
        (vec!["Mine".to_owned()], 1)
    );
    assert_eq!(
        shown(&mut a1, "views/unassigned-in-my-groups").await,
        (vec!["Billing queue".to_owned()], 1)
    );
    assert_eq!(
        shown(&mut a3, "views/unassigned-in-my-groups").await,
        (vec!["Sales queue".to_owned()], 1)
    );
    assert_eq!(shown(&mut a3, "views/my-open-tickets").await.1, 0);
    let (_, due_soon) = shown(&mut admin, "views/breaching-soon").await;
    assert_eq!(
        due_soon, 3,
        "every unsolved ticket is due within the half hour"
    );
    // "Due within" counts from the moment the view runs.
    let ten_minutes = save(
        &mut admin,
        pb::View {
            display_name: "Due in ten minutes".into(),
            filter: Some(pb::ViewFilter {
                due_within_minutes: 10,
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(shown(&mut admin, &ten_minutes.name).await.1, 0);
    app.clock.advance(std::time::Duration::from_secs(25 * 60));
    assert_eq!(shown(&mut admin, &ten_minutes.name).await.1, 3);
    // The viewer's scope narrows every view; the count is of the whole view, not the page.
    set_scope(&mut admin, "a3", pb::TicketScope::Groups).await;
    assert_eq!(shown(&mut a3, "views/breaching-soon").await.1, 1);
    let page = run(&mut admin, "views/breaching-soon", 1).await.unwrap();
    assert_eq!((page.tickets.len(), page.total_size), (1, 3));
    assert!(!page.next_page_token.is_empty());

    // Personal and shared views.
    let personal = save(&mut a1, tagged("vip", "")).await.unwrap();
    assert_eq!(personal.owner, "agents/a1");
    assert_eq!(shown(&mut a1, &personal.name).await.1, 2);
    let mut a2 = app.agent("a2");
    assert_status(run(&mut a2, &personal.name, 0).await, Code::NotFound, &[]);
    let shared = save(&mut a1, tagged("vip", &billing.name)).await.unwrap();
    assert_eq!(
        shown(&mut a2, &shared.name).await.0,
        ["Billing queue", "Mine"],
        "newest first"
    );
    assert_status(run(&mut a3, &shared.name, 0).await, Code::NotFound, &[]);
    assert_status(
        save(&mut a1, tagged("vip", &sales.name)).await,
        Code::PermissionDenied,
        &[],
    );
    let renamed = pb::View {
        name: shared.name.clone(),
        display_name: "Billing VIPs".into(),
        ..Default::default()
    };
    let update = |view: pb::View, etag: &str| pb::UpdateViewRequest {
        view: Some(view),
        update_mask: mask(&["display_name"]),
        etag: etag.into(),
    };
    assert_status(
        a2.update_view(update(renamed.clone(), "")).await,
        Code::PermissionDenied,
        &[],
    );
    let changed = a1
        .update_view(update(renamed, &shared.etag))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.display_name, "Billing VIPs");
    let names: Vec<String> = a2
        .list_views(pb::ListViewsRequest {})
        .await
        .unwrap()
        .into_inner()
        .views
        .into_iter()
        .map(|v| v.display_name)
        .collect();
    assert_eq!(
        names.len(),
        4,
        "built in, and the one shared with billing: {names:?}"
    );

    // Bad views, nothing saved: each field named.
    let bad = pb::View {
        display_name: "Bad".into(),
        filter: Some(pb::ViewFilter {
            priority: 99,
            due_within_minutes: 99_999,
            assignee: "people/1".into(),
            ..Default::default()
        }),
        order_by: "nonsense".into(),
        ..Default::default()
    };
    assert_status(
        save(&mut a1, bad).await,
        Code::InvalidArgument,
        &[
            "view.filter.priority",
            "view.filter.due_within_minutes",
            "view.filter.assignee",
            "view.order_by",
        ],
    );
    assert_status(
        save(&mut a1, tagged("vip", "groups/nope")).await,
        Code::NotFound,
        &[],
    );
    assert_status(
        a1.delete_view(pb::DeleteViewRequest {
            name: "views/my-open-tickets".into(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        &[],
    );
    a1.delete_view(pb::DeleteViewRequest {
        name: personal.name.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
    assert_status(run(&mut a1, &personal.name, 0).await, Code::NotFound, &[]);
    assert_status(
        run(&mut app.integration(), "views/my-open-tickets", 0).await,
        Code::PermissionDenied,
        &[],
    );
}
