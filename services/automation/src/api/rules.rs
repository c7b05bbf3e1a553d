//! What the trigger and automation RPCs share: both are rules kept by admins and read and
//! dry-run by staff and integrations; only their wire messages differ.

use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::records::Target;
use kefu_server::{Violations, mask, principal_of, validate};
use prost_types::FieldMask;
use tonic::{Request, Status};

use super::{AutomationApi, allow};
use crate::domain::access::Action;
use crate::domain::trigger::{RuleKind, TriggerRecord};
use crate::ops::TriggerView;

/// A rule's wire message (`Trigger` or `Automation`).
pub(super) trait RuleMessage: prost::Message + Clone + Default + 'static {
    /// The kind of rule the message carries.
    const KIND: RuleKind;
    /// The request field that holds the message ("trigger", "automation").
    const FIELD: &'static str;
    /// The paths an update changes.
    const UPDATABLE: &'static [&'static str];

    /// The message checked into a record; problems go to `v`.
    fn record(&self, v: &mut Violations) -> TriggerRecord;
    /// A stored rule as the message.
    fn view(view: &TriggerView) -> Self;
    /// The message's resource name.
    fn name(&self) -> &str;
    /// Copies the field at `path` (one of [`Self::UPDATABLE`]) from `input`.
    fn take_path(&mut self, path: &str, input: &Self);
}

/// Create: idempotent under `request_id`.
pub(super) async fn create<M: RuleMessage, B: prost::Message>(
    api: &AutomationApi,
    request: &Request<B>,
    operation: &'static str,
    request_id: &str,
    rule: Option<&M>,
) -> Result<M, Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Configure)?;
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        request_id,
        operation,
        request.get_ref(),
        M::view,
        &mut v,
    );
    let record = rule.cloned().unwrap_or_default().record(&mut v);
    v.into_result()?;
    Ok(api
        .ops
        .create_trigger(&principal.id, record, &replay)
        .await?)
}

/// Get by resource name.
pub(super) async fn get<M: RuleMessage, B>(
    api: &AutomationApi,
    request: &Request<B>,
    name: &str,
) -> Result<M, Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(name, M::KIND.collection(), "name")?;
    Ok(M::view(&api.ops.get_trigger(M::KIND, &id).await?))
}

/// One page in evaluation order, and the token of the next.
pub(super) async fn list<M: RuleMessage, B>(
    api: &AutomationApi,
    request: &Request<B>,
    page_size: i32,
    page_token: &str,
    active_only: bool,
) -> Result<(Vec<M>, String), Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Read)?;
    let mut v = Violations::new();
    let filter = active_only.to_string();
    let page: Page<(i32, String)> = Page::read(page_size, page_token, &[&filter], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_triggers(M::KIND, page.after.as_ref(), active_only, page.fetch())
        .await?;
    let (rows, next_page_token) = page.finish(rows, |t| (t.trigger.position, t.trigger.id.clone()));
    Ok((rows.iter().map(M::view).collect(), next_page_token))
}

/// Update the paths in `update_mask` if the rule is still at `etag`.
pub(super) async fn update<M: RuleMessage, B>(
    api: &AutomationApi,
    request: &Request<B>,
    input: Option<&M>,
    etag: &str,
    update_mask: Option<&FieldMask>,
) -> Result<M, Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Configure)?;
    let input = input.cloned().unwrap_or_default();
    let target = Target {
        id: validate::required_id(
            input.name(),
            M::KIND.collection(),
            &format!("{}.name", M::FIELD),
        )?,
        etag: etag.to_owned(),
    };
    let mut v = Violations::new();
    let paths = mask::update_mask(update_mask, M::UPDATABLE, &mut v);
    v.into_result()?;
    let mut merged = M::view(&api.ops.get_trigger(M::KIND, &target.id).await?);
    for path in &paths {
        merged.take_path(path, &input);
    }
    let mut v = Violations::new();
    let record = merged.record(&mut v);
    v.into_result()?;
    let view = api
        .ops
        .update_trigger(&principal.id, &target, record)
        .await?;
    Ok(M::view(&view))
}

/// Delete if the rule is still at `etag`.
pub(super) async fn delete<M: RuleMessage, B>(
    api: &AutomationApi,
    request: &Request<B>,
    name: &str,
    etag: &str,
) -> Result<(), Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Configure)?;
    let target = validate::target(name, M::KIND.collection(), etag)?;
    api.ops
        .delete_trigger(&principal.id, M::KIND, &target)
        .await?;
    Ok(())
}

/// What a dry run acts on: the caller to read as, the ticket's id and the rule.
pub(super) struct DryRun {
    /// Whose rights the ticket is read with.
    pub caller: Caller,
    /// The ticket the rule is evaluated against.
    pub ticket_id: String,
    /// The stored rule named, or the one given inline.
    pub rule: TriggerRecord,
}

/// Checks a dry-run request naming a stored rule or giving one inline; earlier problems of the
/// request come in `v`.
pub(super) async fn dry_run<M: RuleMessage, B>(
    api: &AutomationApi,
    request: &Request<B>,
    (name, inline, ticket): (&str, Option<&M>, &str),
    mut v: Violations,
) -> Result<DryRun, Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::Read)?;
    let ticket_id = validate::resource_id(ticket, "tickets", "ticket", &mut v);
    let inline = match (name.is_empty(), inline) {
        (true, Some(rule)) => Some(rule.record(&mut v)),
        (false, None) => None,
        _ => {
            v.add(
                "name",
                format!(
                    "give either the name of a stored {0} or a {0}, not both",
                    M::FIELD
                ),
            );
            None
        }
    };
    v.into_result()?;
    let rule = match inline {
        Some(rule) => rule,
        None => {
            let id = validate::required_id(name, M::KIND.collection(), "name")?;
            api.ops.get_trigger(M::KIND, &id).await?.trigger
        }
    };
    Ok(DryRun {
        caller: Caller::of(request),
        ticket_id,
        rule,
    })
}

/// Implements [`RuleMessage`] for a rule message: its kind, request field, converters, and the
/// paths an update may change (`copied` ones are plain values, `cloned` ones own data).
macro_rules! rule_message {
    (
        $message:ty, $kind:expr, $field:literal, $record:path, $view:path,
        copied [$($copied:ident),*], cloned [$($cloned:ident),*]
    ) => {
        impl $crate::api::rules::RuleMessage for $message {
            const KIND: $crate::domain::trigger::RuleKind = $kind;
            const FIELD: &'static str = $field;
            const UPDATABLE: &'static [&'static str] =
                &[$(stringify!($copied),)* $(stringify!($cloned),)*];

            fn record(
                &self,
                v: &mut kefu_server::Violations,
            ) -> $crate::domain::trigger::TriggerRecord {
                $record(self, v)
            }

            fn view(view: &$crate::ops::TriggerView) -> Self {
                $view(view)
            }

            fn name(&self) -> &str {
                &self.name
            }

            fn take_path(&mut self, path: &str, input: &Self) {
                match path {
                    $(stringify!($copied) => self.$copied = input.$copied,)*
                    $(stringify!($cloned) => self.$cloned.clone_from(&input.$cloned),)*
                    _ => {}
                }
            }
        }
    };
}
pub(super) use rule_message;
