//! `cexfeed replay FILE...|DIR` (recorded traffic through the same decoder → sync → book →
//! ring → consumer path as live, no sockets) and `cexfeed export FILE --format jsonl` (the
//! recorded messages and REST bodies decoded into `cexfeed decode`'s lines). Issue 15; the
//! file format is in `docs/recording.md`.

use crate::jsonl::{error_line, InputFrame, JsonLines};
use crate::runner::{self, LiveMode, RunOptions};
use anyhow::{bail, Context, Result};
use cexfeed::config::{Config, WaitMode};
use cexfeed::engine::Engine;
use cexfeed::exchange::{gateio, mexc};
use cexfeed::record::replay::{ReplaySetup, Speed};
use cexfeed::record::{open_inputs, read_meta, FileReader, Kind};
use cexfeed::types::{Market, Venue};
use cexfeed::Credentials;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Recording files, or directories of them (`*.cxrec`, taken in name order).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// `max` (as fast as one thread decodes and applies), `1` (the recorded pace) or a factor.
    #[arg(long, default_value = "max")]
    pub speed: String,
    /// Write the JSON report here (the same keys as `run`'s, plus `replay`).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Carry on past a corrupt frame (to the next frame) instead of ending that file there.
    #[arg(long)]
    pub skip_corrupt: bool,
    /// Live view: tty, lines or off (default off).
    #[arg(long, default_value = "off")]
    pub live: String,
}

/// The configuration a recording was made with, set up to replay: feeds without files
/// dropped, CA files not read, placeholder credentials where the feed had private channels
/// (the replay sends nothing; the recorded private messages are decoded as live).
fn replay_config(files: &[PathBuf]) -> Result<(Config, Vec<(String, String)>)> {
    let mut feeds_seen = Vec::new();
    let mut text = None;
    for f in files {
        let m = read_meta(f).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !feeds_seen.contains(&(m.venue.clone(), m.market.clone())) {
            feeds_seen.push((m.venue.clone(), m.market.clone()));
        }
        text.get_or_insert(m.config);
    }
    let text = text.context("no recording files given")?;
    let mut cfg = Config::from_toml(&text, "the recording's header")?;
    cfg.record = None;
    cfg.feeds
        .retain(|f| feeds_seen.contains(&(f.venue.clone(), f.market.clone())));
    for f in &mut cfg.feeds {
        f.ca_file = None;
        let private = f
            .channels
            .iter()
            .any(|c| matches!(c.as_str(), "orders" | "fills" | "balances" | "positions"));
        if private {
            f.credentials = Some(Credentials::new("replay", "replay"));
        }
        f.api_key_env = None;
        f.api_secret_env = None;
    }
    Ok((cfg, feeds_seen))
}

pub fn replay(a: ReplayArgs, interrupt: &'static AtomicBool) -> Result<()> {
    let speed = Speed::parse(&a.speed).with_context(|| {
        format!(
            "--speed {:?}: expected max, 1 or a positive factor",
            a.speed
        )
    })?;
    let files = open_inputs(&a.inputs).context("listing the inputs")?;
    if files.is_empty() {
        bail!("no recording files in {:?}", a.inputs);
    }
    let (cfg, _) = replay_config(&files)?;
    let resolved = cfg.resolve()?;
    let mut engine = Engine::new(resolved.engine)?;
    engine.replay(ReplaySetup {
        files,
        speed,
        skip_corrupt: a.skip_corrupt,
    })?;
    let rx = engine.consumer()?;
    for ch in &resolved.channels {
        engine.bind(ch, rx.id())?;
    }
    let live = match a.live.as_str() {
        "tty" => LiveMode::Tty,
        "lines" => LiveMode::Lines,
        "off" => LiveMode::Off,
        o => bail!("--live {o:?}: expected tty, lines or off"),
    };
    let opts = RunOptions {
        duration: Duration::from_secs(u32::MAX as u64),
        report: a.report.clone(),
        live,
        live_period: Duration::from_secs(1),
        strategy_core: None,
        strategy_spin: WaitMode::default_for_cores(2) == WaitMode::Spin,
        scenarios: Vec::new(),
        compare_levels: 10,
        interrupt: Some(interrupt),
        inject_feed_panic: None,
        until_replay_done: true,
    };
    let mut out = std::io::stdout();
    let report = runner::run(engine, rx, &opts, None, &mut out)?;
    runner::print_summary(&report, &mut out)?;
    let bad: u64 = report.replay.iter().map(|r| r.bad_frames).sum();
    if bad > 0 && !a.skip_corrupt {
        bail!("{bad} corrupt or truncated frame(s); --skip-corrupt carries on past them");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A recording file.
    pub input: PathBuf,
    /// Output format: jsonl (the `cexfeed decode` event lines).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Carry on past a corrupt frame.
    #[arg(long)]
    pub skip_corrupt: bool,
}

/// Returns whether everything read and decoded.
pub fn export(a: ExportArgs) -> Result<bool> {
    if a.format != "jsonl" {
        bail!("--format {:?}: only jsonl", a.format);
    }
    let mut rd = FileReader::open(&a.input).map_err(|e| anyhow::anyhow!("{e}"))?;
    let meta = rd.meta().clone();
    let venue = Venue::parse(&meta.venue).context("venue in the header")?;
    let market = Market::parse(&meta.market).context("market in the header")?;
    let mut sink = JsonLines::new(venue, market);
    let mut gate = gateio::GateDecoder::new(market, 10_000);
    let mut mx = mexc::MexcDecoder::new(10_000);
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut all_ok = true;
    loop {
        let frame = match rd.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                all_ok = false;
                writeln!(out, "{}", error_line(venue, market, &e.to_string()))?;
                if a.skip_corrupt {
                    rd.skip_corrupt();
                    continue;
                }
                break;
            }
        };
        for rec in frame.records() {
            let Ok((h, payload)) = rec else {
                all_ok = false;
                break;
            };
            let (input, symbol) = match Kind::from_u8(h.kind) {
                Some(Kind::MsgText) => (InputFrame::Json(payload), ""),
                Some(Kind::MsgBinary) => (InputFrame::Binary(payload.to_vec()), ""),
                Some(Kind::Rest) if h.conn == 200 => (
                    InputFrame::Json(payload),
                    meta.symbols
                        .get(h.aux as usize)
                        .map(String::as_str)
                        .unwrap_or(""),
                ),
                _ => continue,
            };
            match crate::decode::decode_frame(&input, venue, symbol, &mut gate, &mut mx, &mut sink)
            {
                Ok(()) => out.write_all(sink.take().as_bytes())?,
                Err(reason) => {
                    all_ok = false;
                    let _ = sink.take();
                    writeln!(out, "{}", error_line(venue, market, &reason))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(all_ok)
}

/// `cexfeed venue --replay FILE...`: the recordings as the venue's replay streams (public
/// connections' messages of each feed merged in time order, REST snapshot bodies by symbol).
/// The venue does not depend on the library; the library's reader reads the files here.
pub fn venue_streams(inputs: &[PathBuf]) -> Result<Vec<cexfeed_venue::replay::ReplayStream>> {
    use cexfeed_venue::replay::{ReplayFrame, ReplayRest, ReplayService, ReplayStream};
    let files = open_inputs(inputs).context("listing the inputs")?;
    let mut streams: Vec<(ReplayStream, u64)> = Vec::new();
    for path in &files {
        let mut rd = FileReader::open(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let meta = rd.meta().clone();
        let service = match (meta.venue.as_str(), meta.market.as_str()) {
            ("mexc", _) => ReplayService::Mexc,
            ("gateio", "spot") => ReplayService::GateSpot,
            ("gateio", "futures") => ReplayService::GateFutures,
            _ => bail!(
                "{}: unknown feed {}.{}",
                path.display(),
                meta.venue,
                meta.market
            ),
        };
        let i = match streams.iter().position(|(s, _)| s.service == service) {
            Some(i) => i,
            None => {
                streams.push((
                    ReplayStream {
                        service,
                        frames: Vec::new(),
                        rest: Vec::new(),
                    },
                    0,
                ));
                streams.len() - 1
            }
        };
        // Which connections are public (spec 0) as they come up.
        let mut public = [false; 1 << 16];
        loop {
            let frame = match rd.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => bail!("{e}"),
            };
            for rec in frame.records() {
                let Ok((h, payload)) = rec else { break };
                let (stream, first) = &mut streams[i];
                if *first == 0 {
                    *first = h.mono_ns.max(1);
                }
                let at_ns = h.mono_ns.saturating_sub(*first);
                match Kind::from_u8(h.kind) {
                    Some(Kind::Up) => public[h.conn as usize] = h.aux == 0,
                    Some(Kind::MsgText | Kind::MsgBinary) if public[h.conn as usize] => {
                        stream.frames.push(ReplayFrame {
                            at_ns,
                            text: h.kind == Kind::MsgText as u8,
                            data: payload.to_vec(),
                        })
                    }
                    Some(Kind::Rest) if h.conn != 0 => {
                        if let Some(sym) = meta.symbols.get(h.aux as usize) {
                            stream.rest.push(ReplayRest {
                                at_ns,
                                symbol: sym.clone(),
                                status: h.conn,
                                body: payload.to_vec(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    for (mut s, _) in streams {
        s.frames.sort_by_key(|f| f.at_ns);
        out.push(s);
    }
    Ok(out)
}
