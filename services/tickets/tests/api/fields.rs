//! Typed custom fields and forms: values checked and written canonically, filters by them,
//! fields required before solve, and forms naming which fields a ticket type shows.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

use pb::TicketFieldType as Type;

backend_tests!(
    custom_fields_are_typed_checked_and_found,
    a_form_names_the_fields_its_type_shows
);

fn with_values(ticket: pb::Ticket, values: &[(&str, &str)]) -> pb::Ticket {
    pb::Ticket {
        custom_fields: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..ticket
    }
}

async fn try_create(admin: &mut Client, ticket: pb::Ticket) -> Result<pb::Ticket, tonic::Status> {
    admin
        .create_ticket(pb::CreateTicketRequest {
            ticket: Some(ticket),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn solve(admin: &mut Client, ticket: &str) -> Result<pb::Ticket, tonic::Status> {
    assign(admin, ticket, "agents/a1", "").await?;
    admin
        .solve_ticket(pb::SolveTicketRequest {
            name: ticket.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn set_values(
    admin: &mut Client,
    ticket: &str,
    values: &[(&str, &str)],
) -> Result<pb::Ticket, tonic::Status> {
    admin
        .update_ticket(pb::UpdateTicketRequest {
            ticket: Some(with_values(
                pb::Ticket {
                    name: ticket.into(),
                    ..Default::default()
                },
                values,
            )),
            update_mask: mask(&["custom_fields"]),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn holding(admin: &mut Client, custom_field: &str) -> Result<Vec<String>, tonic::Status> {
    admin
        .list_tickets(pb::ListTicketsRequest {
            custom_field: custom_field.into(),
            ..Default::default()
        })
        .await
        .map(|r| {
            r.into_inner()
                .tickets
                .into_iter()
                .map(|t| t.subject)
                .collect()
        })
}

async fn custom_fields_are_typed_checked_and_found(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app
        .customer_record("Wang Fang", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    agent(&mut admin, "a1", &[]).await;

    // Bad definitions are refused, naming the field.
    let bad = [
        ("Order-ID", Type::Text, &[][..], "ticket_field_id"),
        ("region", Type::Dropdown, &[][..], "ticket_field.options"),
        ("note", Type::Text, &["x"][..], "ticket_field.options"),
        ("size", Type::Unspecified, &[][..], "ticket_field.type"),
        (
            "tint",
            Type::MultiSelect,
            &["a,b"][..],
            "ticket_field.options[0]",
        ),
    ];
    for (id, kind, options, field) in bad {
        assert_status(
            define_field(&mut admin, id, kind, options, false).await,
            Code::InvalidArgument,
            &[field],
        );
    }
    define_field(&mut admin, "order_id", Type::Text, &[], true)
        .await
        .unwrap();
    define_field(&mut admin, "amount", Type::Number, &[], false)
        .await
        .unwrap();
    let region = define_field(
        &mut admin,
        "region",
        Type::Dropdown,
        &["north", "south"],
        false,
    )
    .await
    .unwrap();
    define_field(
        &mut admin,
        "products",
        Type::MultiSelect,
        &["phone", "tablet", "watch"],
        false,
    )
    .await
    .unwrap();
    define_field(&mut admin, "gift", Type::Checkbox, &[], false)
        .await
        .unwrap();
    define_field(&mut admin, "purchased", Type::Date, &[], false)
        .await
        .unwrap();
    assert_status(
        define_field(&mut admin, "gift", Type::Text, &[], false).await,
        Code::AlreadyExists,
        &[],
    );

    // Bad values: each named, nothing written.
    let status = assert_status(
        try_create(
            &mut admin,
            with_values(
                new_ticket(&customer, "Broken"),
                &[
                    ("amount", "12,50"),
                    ("region", "east"),
                    ("products", "phone,laptop"),
                    ("gift", "yes"),
                    ("purchased", "2026-02-30"),
                    ("colour", "red"),
                ],
            ),
        )
        .await,
        Code::InvalidArgument,
        &[
            "ticket.custom_fields[amount]",
            "ticket.custom_fields[region]",
            "ticket.custom_fields[products]",
            "ticket.custom_fields[gift]",
            "ticket.custom_fields[purchased]",
            "ticket.custom_fields[colour]",
        ],
    );
    assert!(!status.message().is_empty());
    assert!(holding(&mut admin, "gift=yes").await.unwrap().is_empty());

    // Good values come back canonical, and tickets are found by them.
    let phone = try_create(
        &mut admin,
        with_values(
            new_ticket(&customer, "Screen cracked"),
            &[
                ("order_id", " SO-1 "),
                ("amount", "+12.50"),
                ("region", "south"),
                ("products", "watch, phone"),
                ("gift", "true"),
                ("purchased", "2026-11-30"),
            ],
        ),
    )
    .await
    .unwrap();
    assert_eq!(phone.custom_fields["order_id"], "SO-1");
    assert_eq!(phone.custom_fields["amount"], "12.50");
    assert_eq!(phone.custom_fields["products"], "phone,watch");
    create(
        &mut admin,
        with_values(
            new_ticket(&customer, "Tablet slow"),
            &[("products", "tablet")],
        ),
    )
    .await;
    assert_eq!(
        holding(&mut admin, "products=watch").await.unwrap(),
        ["Screen cracked"]
    );
    assert_eq!(
        holding(&mut admin, "products=phone,watch").await.unwrap(),
        ["Screen cracked"]
    );
    assert_eq!(
        holding(&mut admin, "products=tablet").await.unwrap(),
        ["Tablet slow"]
    );
    assert!(
        holding(&mut admin, "region=north")
            .await
            .unwrap()
            .is_empty()
    );
    assert_status(
        holding(&mut admin, "region").await,
        Code::InvalidArgument,
        &["custom_field"],
    );

    // A required field: no solve without it.
    let tablet = holding_ticket(&mut admin, "products=tablet").await;
    let status = solve(&mut admin, &tablet).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("ticketFields/order_id"),
        "{}",
        status.message()
    );
    set_values(
        &mut admin,
        &tablet,
        &[("products", "tablet"), ("order_id", "SO-2")],
    )
    .await
    .unwrap();
    assert_eq!(
        holding(&mut admin, "order_id=SO-2").await.unwrap(),
        ["Tablet slow"]
    );
    solve(&mut admin, &tablet).await.unwrap();

    // Options change under an etag; the type never does.
    let widened = admin
        .update_ticket_field(pb::UpdateTicketFieldRequest {
            ticket_field: Some(pb::TicketField {
                name: region.name.clone(),
                options: vec!["north".into(), "south".into(), "east".into()],
                ..Default::default()
            }),
            update_mask: mask(&["options"]),
            etag: region.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(widened.options.len(), 3);
    assert_status(
        admin
            .update_ticket_field(pb::UpdateTicketFieldRequest {
                ticket_field: Some(pb::TicketField {
                    name: region.name.clone(),
                    r#type: Type::Text as i32,
                    ..Default::default()
                }),
                update_mask: mask(&["type"]),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    set_values(
        &mut admin,
        &phone.name,
        &[("order_id", "SO-1"), ("region", "east")],
    )
    .await
    .unwrap();

    // A deleted field: its values stay, new writes are refused.
    admin
        .delete_ticket_field(pb::DeleteTicketFieldRequest {
            name: region.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        get(&mut admin, &phone.name).await.custom_fields["region"],
        "east"
    );
    assert_status(
        try_create(
            &mut admin,
            with_values(new_ticket(&customer, "Again"), &[("region", "east")]),
        )
        .await,
        Code::InvalidArgument,
        &["ticket.custom_fields[region]"],
    );
    let listed = app
        .agent("a1")
        .list_ticket_fields(pb::ListTicketFieldsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .ticket_fields;
    assert_eq!(listed.len(), 5, "agents read the definitions");
    assert_status(
        define_field(&mut app.agent("a1"), "size", Type::Text, &[], false).await,
        Code::PermissionDenied,
        &[],
    );
}

async fn holding_ticket(admin: &mut Client, custom_field: &str) -> String {
    admin
        .list_tickets(pb::ListTicketsRequest {
            custom_field: custom_field.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets
        .remove(0)
        .name
}

async fn create_form(
    admin: &mut Client,
    ticket_type: pb::TicketType,
    fields: &[&str],
) -> Result<pb::TicketForm, tonic::Status> {
    admin
        .create_ticket_form(pb::CreateTicketFormRequest {
            request_id: String::new(),
            ticket_form: Some(pb::TicketForm {
                display_name: format!("{ticket_type:?} form"),
                ticket_type: ticket_type as i32,
                fields: fields.iter().map(|f| format!("ticketFields/{f}")).collect(),
                ..Default::default()
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn after_sales(requester: &str, subject: &str) -> pb::Ticket {
    pb::Ticket {
        r#type: pb::TicketType::AfterSales as i32,
        after_sales_kind: pb::AfterSalesKind::Return as i32,
        ..new_ticket(requester, subject)
    }
}

async fn a_form_names_the_fields_its_type_shows(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Li Lei", common::Tier::Standard).await;
    let mut admin = app.admin();
    agent(&mut admin, "a1", &[]).await;
    define_field(&mut admin, "order_id", Type::Text, &[], true)
        .await
        .unwrap();
    define_field(&mut admin, "amount", Type::Number, &[], false)
        .await
        .unwrap();

    assert_status(
        create_form(
            &mut admin,
            pb::TicketType::AfterSales,
            &["order_id", "nope"],
        )
        .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        create_form(
            &mut admin,
            pb::TicketType::AfterSales,
            &["order_id", "order_id"],
        )
        .await,
        Code::InvalidArgument,
        &["ticket_form.fields[1]"],
    );
    let returns = create_form(&mut admin, pb::TicketType::AfterSales, &["order_id"])
        .await
        .unwrap();
    assert_status(
        create_form(&mut admin, pb::TicketType::AfterSales, &[]).await,
        Code::AlreadyExists,
        &[],
    );

    // An after-sales ticket holds only the form's fields; a question, any field.
    assert_status(
        try_create(
            &mut admin,
            with_values(after_sales(&customer, "Return"), &[("amount", "3")]),
        )
        .await,
        Code::InvalidArgument,
        &["ticket.custom_fields[amount]"],
    );
    let question = create(
        &mut admin,
        with_values(new_ticket(&customer, "How much?"), &[("amount", "3")]),
    )
    .await;
    // Without a form, every required field is needed to solve; with one, only the form's.
    assert_status(
        solve(&mut admin, &question.name).await,
        Code::FailedPrecondition,
        &[],
    );
    create_form(&mut admin, pb::TicketType::Question, &["amount"])
        .await
        .unwrap();
    solve(&mut admin, &question.name).await.unwrap();
    let ret = create(&mut admin, after_sales(&customer, "Return it")).await;
    assert_status(
        solve(&mut admin, &ret.name).await,
        Code::FailedPrecondition,
        &[],
    );

    // A field on a form stays; off the form it can go.
    assert_status(
        admin
            .delete_ticket_field(pb::DeleteTicketFieldRequest {
                name: "ticketFields/order_id".into(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    let emptied = admin
        .update_ticket_form(pb::UpdateTicketFormRequest {
            ticket_form: Some(pb::TicketForm {
                name: returns.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["fields"]),
            etag: returns.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(emptied.fields.is_empty());
    solve(&mut admin, &ret.name).await.unwrap();
    admin
        .delete_ticket_field(pb::DeleteTicketFieldRequest {
            name: "ticketFields/order_id".into(),
            etag: String::new(),
        })
        .await
        .unwrap();
    admin
        .delete_ticket_form(pb::DeleteTicketFormRequest {
            name: returns.name.clone(),
            etag: emptied.etag.clone(),
        })
        .await
        .unwrap();
    let forms = admin
        .list_ticket_forms(pb::ListTicketFormsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .ticket_forms;
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0].ticket_type, pb::TicketType::Question as i32);
}
