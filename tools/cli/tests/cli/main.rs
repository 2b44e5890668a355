//! The `cexfeed` command end to end: decode, the demo, run --config, record / replay / export.
//! One binary (fewer link steps); each module was its own test file.

mod decode;
mod demo;
mod dry_run;
mod record;
mod run;
