//! The `cexfeed` command end to end: decode, the demo, run --config.
//! One binary (fewer link steps); each module was its own test file.

mod decode;
mod demo;
mod dry_run;
mod run;
