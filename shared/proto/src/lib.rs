//! Generated code for every kefu contract under `proto/`, one module per package, and the
//! encoded descriptor set that services hand to server reflection.
//!
//! The code is generated into `OUT_DIR` at build time and never committed. Maps are generated
//! as `BTreeMap`, so a message always encodes to the same bytes.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used
)]

/// Encoded `FileDescriptorSet` of every kefu proto, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/kefu_descriptor.bin"));

/// Types every service shares, `kefu.common.v1`: channels, customer tiers and lifecycle stages.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.common.v1");
    }
}

/// The customers service contract, `kefu.customers.v1`.
#[cfg(feature = "customers")]
pub mod customers {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.customers.v1");
    }
}

/// The knowledge base contract, `kefu.knowledge.v1`.
#[cfg(feature = "knowledge")]
pub mod knowledge {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.knowledge.v1");
    }
}

/// The tickets contract, `kefu.tickets.v1`.
#[cfg(feature = "tickets")]
pub mod tickets {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.tickets.v1");
    }
}

/// The feedback contract, `kefu.feedback.v1`.
#[cfg(feature = "feedback")]
pub mod feedback {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.feedback.v1");
    }
}

/// What every service's `WatchEvents` response shares: one `event` whose `cursor` says where to
/// resume. The service kit serves and follows event streams through it.
pub trait WatchResponse: prost::Message + Default + Send + Sync + 'static {
    /// The service's event message.
    type Event: prost::Message + Default + Send + Sync + 'static;

    /// The response carrying `event` at `cursor`.
    fn from_event(event: Self::Event, cursor: String) -> Self;

    /// The event and its cursor; `None` for a response without an event.
    fn into_event(self) -> Option<(String, Self::Event)>;
}

macro_rules! watch_response {
    ($feature:literal, $package:ident) => {
        #[cfg(feature = $feature)]
        impl WatchResponse for $package::v1::WatchEventsResponse {
            type Event = $package::v1::Event;

            fn from_event(mut event: Self::Event, cursor: String) -> Self {
                event.cursor = cursor;
                Self { event: Some(event) }
            }

            fn into_event(self) -> Option<(String, Self::Event)> {
                self.event.map(|event| (event.cursor.clone(), event))
            }
        }
    };
}

watch_response!("customers", customers);
watch_response!("knowledge", knowledge);
watch_response!("tickets", tickets);
watch_response!("feedback", feedback);
