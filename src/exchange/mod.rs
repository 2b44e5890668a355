//! Venue protocol code. Each venue handles its own protocol in one place; the folders have the
//! same file shape. Wire types stay private to their venue; only `crate::event` types leave.
pub mod gateio;
pub mod mexc;
