//! Venue protocol code, sans-IO: bytes in, [`crate::event`] messages (or request bytes) out.
//! Wire types stay private to their venue; only `crate::event` types leave.
//!
//! Every venue folder has the same file shape, so a reader knows where to look in any venue:
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the venue's doc (integration notes, file table) and re-exports only |
//! | `urls.rs` | endpoints, limits, REST paths |
//! | `channel.rs` | channel names: what we subscribe to, what a push's channel means |
//! | `subscribe.rs` | request builders into caller-owned buffers (client side only) |
//! | `auth.rs` | request signing, credentials |
//! | `rest.rs` | REST bodies (cold path) |
//! | `account.rs` | signed account REST for `feed::recon` (cold path; bodies read through `restjson`) |
//! | `wire.rs` | low-level reading of the venue's encoding (JSON tape/scanner cursor, protobuf walker) and field conversions |
//! | `decode.rs` | the venue's decoder: frame → dispatch to the handlers below → [`crate::event::Sink`] |
//! | `public.rs` | public channel bodies → events |
//! | `private.rs` | private channel bodies → events |
//! | `control.rs` | acks, errors, pongs → `Sink::control` |
//!
//! Imports between the files form a DAG: `wire` and `channel` never import `decode` or a
//! handler; handlers (`public`, `private`, `control`) import `wire`/`channel`; only `decode`
//! imports the handlers. Decimal text is parsed by [`crate::num`] alone. Server-side writers and
//! reference decoders are test support (`tests/`), not library code.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod gateio;
pub mod mexc;
pub(crate) mod restjson;
pub use restjson::AccountBodyError;
