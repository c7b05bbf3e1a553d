//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod automations;
mod convert;
mod firings;
mod macros;
mod rules;
mod triggers;

use kefu_principal::Principal;
use kefu_proto::automation::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use pb::automation_service_server::AutomationService;
use tonic::{Request, Response, Status};

use crate::domain::access::{Action, authorize};
use crate::ops::Automation;

/// The stream `WatchEvents` answers with.
type Events = EventStream<pb::WatchEventsResponse>;

/// The `kefu.automation.v1.AutomationService` implementation.
#[derive(Clone, Debug)]
pub struct AutomationApi {
    ops: Automation,
    events: EventFeed,
}

impl AutomationApi {
    /// Serves `ops`, and `WatchEvents` from `events`.
    pub fn new(ops: Automation, events: EventFeed) -> Self {
        Self { ops, events }
    }
}

/// PERMISSION_DENIED unless `principal` may do `action`.
fn allow(principal: &Principal, action: Action) -> Result<(), Status> {
    permission(authorize(principal, action))
}

#[tonic::async_trait]
impl AutomationService for AutomationApi {
    type WatchEventsStream = Events;

    async fn create_trigger(&self, r: Request<pb::CreateTriggerRequest>) -> Rpc<pb::Trigger> {
        let b = r.get_ref();
        let rule = rules::create(self, &r, "CreateTrigger", &b.request_id, b.trigger.as_ref());
        rule.await.map(Response::new)
    }

    async fn get_trigger(&self, r: Request<pb::GetTriggerRequest>) -> Rpc<pb::Trigger> {
        rules::get(self, &r, &r.get_ref().name)
            .await
            .map(Response::new)
    }

    async fn list_triggers(
        &self,
        r: Request<pb::ListTriggersRequest>,
    ) -> Rpc<pb::ListTriggersResponse> {
        let b = r.get_ref();
        let (triggers, next_page_token) =
            rules::list(self, &r, b.page_size, &b.page_token, b.active_only).await?;
        Ok(Response::new(pb::ListTriggersResponse {
            triggers,
            next_page_token,
        }))
    }

    async fn update_trigger(&self, r: Request<pb::UpdateTriggerRequest>) -> Rpc<pb::Trigger> {
        let b = r.get_ref();
        let rule = rules::update(
            self,
            &r,
            b.trigger.as_ref(),
            &b.etag,
            b.update_mask.as_ref(),
        );
        rule.await.map(Response::new)
    }

    async fn delete_trigger(
        &self,
        r: Request<pb::DeleteTriggerRequest>,
    ) -> Rpc<pb::DeleteTriggerResponse> {
        let b = r.get_ref();
        rules::delete::<pb::Trigger, _>(self, &r, &b.name, &b.etag).await?;
        Ok(Response::new(pb::DeleteTriggerResponse {}))
    }

    async fn test_trigger(
        &self,
        r: Request<pb::TestTriggerRequest>,
    ) -> Rpc<pb::TestTriggerResponse> {
        triggers::test(self, r).await
    }

    async fn create_automation(
        &self,
        r: Request<pb::CreateAutomationRequest>,
    ) -> Rpc<pb::Automation> {
        let b = r.get_ref();
        let rule = rules::create(
            self,
            &r,
            "CreateAutomation",
            &b.request_id,
            b.automation.as_ref(),
        );
        rule.await.map(Response::new)
    }

    async fn get_automation(&self, r: Request<pb::GetAutomationRequest>) -> Rpc<pb::Automation> {
        rules::get(self, &r, &r.get_ref().name)
            .await
            .map(Response::new)
    }

    async fn list_automations(
        &self,
        r: Request<pb::ListAutomationsRequest>,
    ) -> Rpc<pb::ListAutomationsResponse> {
        let b = r.get_ref();
        let (automations, next_page_token) =
            rules::list(self, &r, b.page_size, &b.page_token, b.active_only).await?;
        Ok(Response::new(pb::ListAutomationsResponse {
            automations,
            next_page_token,
        }))
    }

    async fn update_automation(
        &self,
        r: Request<pb::UpdateAutomationRequest>,
    ) -> Rpc<pb::Automation> {
        let b = r.get_ref();
        let rule = rules::update(
            self,
            &r,
            b.automation.as_ref(),
            &b.etag,
            b.update_mask.as_ref(),
        );
        rule.await.map(Response::new)
    }

    async fn delete_automation(
        &self,
        r: Request<pb::DeleteAutomationRequest>,
    ) -> Rpc<pb::DeleteAutomationResponse> {
        let b = r.get_ref();
        rules::delete::<pb::Automation, _>(self, &r, &b.name, &b.etag).await?;
        Ok(Response::new(pb::DeleteAutomationResponse {}))
    }

    async fn test_automation(
        &self,
        r: Request<pb::TestAutomationRequest>,
    ) -> Rpc<pb::TestAutomationResponse> {
        automations::test(self, r).await
    }

    async fn list_firings(
        &self,
        r: Request<pb::ListFiringsRequest>,
    ) -> Rpc<pb::ListFiringsResponse> {
        firings::list(self, r).await
    }

    async fn create_macro(&self, r: Request<pb::CreateMacroRequest>) -> Rpc<pb::Macro> {
        macros::create(self, r).await
    }

    async fn get_macro(&self, r: Request<pb::GetMacroRequest>) -> Rpc<pb::Macro> {
        macros::get(self, r).await
    }

    async fn list_macros(&self, r: Request<pb::ListMacrosRequest>) -> Rpc<pb::ListMacrosResponse> {
        macros::list(self, r).await
    }

    async fn update_macro(&self, r: Request<pb::UpdateMacroRequest>) -> Rpc<pb::Macro> {
        macros::update(self, r).await
    }

    async fn delete_macro(
        &self,
        r: Request<pb::DeleteMacroRequest>,
    ) -> Rpc<pb::DeleteMacroResponse> {
        macros::delete(self, r).await
    }

    async fn preview_macro(
        &self,
        r: Request<pb::PreviewMacroRequest>,
    ) -> Rpc<pb::PreviewMacroResponse> {
        macros::preview(self, r).await
    }

    async fn apply_macro(&self, r: Request<pb::ApplyMacroRequest>) -> Rpc<pb::ApplyMacroResponse> {
        macros::apply(self, r).await
    }

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events.serve(&r, |p| allow(p, Action::WatchEvents))
    }
}
