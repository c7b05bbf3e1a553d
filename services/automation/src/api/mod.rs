//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod automations;
mod convert;
mod firings;
mod triggers;

use kefu_principal::Principal;
use kefu_proto::automation::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use pb::automation_service_server::AutomationService;
use tonic::{Request, Status};

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
        triggers::create(self, r).await
    }

    async fn get_trigger(&self, r: Request<pb::GetTriggerRequest>) -> Rpc<pb::Trigger> {
        triggers::get(self, r).await
    }

    async fn list_triggers(
        &self,
        r: Request<pb::ListTriggersRequest>,
    ) -> Rpc<pb::ListTriggersResponse> {
        triggers::list(self, r).await
    }

    async fn update_trigger(&self, r: Request<pb::UpdateTriggerRequest>) -> Rpc<pb::Trigger> {
        triggers::update(self, r).await
    }

    async fn delete_trigger(
        &self,
        r: Request<pb::DeleteTriggerRequest>,
    ) -> Rpc<pb::DeleteTriggerResponse> {
        triggers::delete(self, r).await
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
        automations::create(self, r).await
    }

    async fn get_automation(&self, r: Request<pb::GetAutomationRequest>) -> Rpc<pb::Automation> {
        automations::get(self, r).await
    }

    async fn list_automations(
        &self,
        r: Request<pb::ListAutomationsRequest>,
    ) -> Rpc<pb::ListAutomationsResponse> {
        automations::list(self, r).await
    }

    async fn update_automation(
        &self,
        r: Request<pb::UpdateAutomationRequest>,
    ) -> Rpc<pb::Automation> {
        automations::update(self, r).await
    }

    async fn delete_automation(
        &self,
        r: Request<pb::DeleteAutomationRequest>,
    ) -> Rpc<pb::DeleteAutomationResponse> {
        automations::delete(self, r).await
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

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events.serve(&r, |p| allow(p, Action::WatchEvents))
    }
}
