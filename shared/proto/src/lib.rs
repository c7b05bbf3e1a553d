//! Generated code for every kefu contract under `proto/`, one module per package, and the
//! encoded descriptor set that services hand to server reflection.
//!
//! The code is generated into `OUT_DIR` at build time and never committed.

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
