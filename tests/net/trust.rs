//! Issue 12, defect 5 (secrets and trust): the REST control thread never follows a redirect
//! (the API key is never re-sent), and the extra CA is trusted by one rule on WebSocket and
//! REST alike.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::net::*;
use cexfeed::net::{CaCert, ControlConfig, ControlThread, HttpMethod, HttpReply, HttpRequest};

const LIMIT: Duration = Duration::from_secs(5);

/// Read one request head (up to the blank line); `None` if the client went away first.
fn read_head(conn: &mut Conn) -> Option<String> {
    let mut req = Vec::new();
    let mut b = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(k) if k > 0 => req.extend_from_slice(&b[..k]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&req).into_owned())
}

fn answer(conn: &mut Conn, head: &str) {
    conn.write_all(head.as_bytes()).unwrap();
    conn.flush().unwrap();
    if let Conn::Tls(s) = conn {
        s.conn.send_close_notify();
        let _ = s.flush();
    }
}

fn wait_reply(c: &cexfeed::net::ControlClient) -> HttpReply {
    let t0 = Instant::now();
    loop {
        if let Some(r) = c.try_reply() {
            return r;
        }
        assert!(t0.elapsed() < LIMIT, "no reply");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn issue12_defect5_rest_redirect_is_not_followed_and_the_api_key_never_resent() {
    let ca = test_ca();
    // The redirect target records whether anything, the API key above all, reached it.
    let target_saw_key = Arc::new(AtomicBool::new(false));
    let saw = target_saw_key.clone();
    let target = serve(Some(ca.server.clone()), 1, move |_, mut conn| {
        if let Some(h) = read_head(&mut conn) {
            if h.to_ascii_lowercase().contains("x-mexc-apikey") {
                saw.store(true, Ordering::SeqCst);
            }
            answer(
                &mut conn,
                "HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"listenKey\":\"x\"}",
            );
        }
    });
    let location = format!(
        "https://{}/api/v3/userDataStream?timestamp=1&signature=ab",
        target.addr
    );
    let origin_saw_key = Arc::new(AtomicBool::new(false));
    let saw = origin_saw_key.clone();
    let origin = serve(Some(ca.server.clone()), 1, move |_, mut conn| {
        if let Some(h) = read_head(&mut conn) {
            if h.to_ascii_lowercase().contains("x-mexc-apikey: mx0key") {
                saw.store(true, Ordering::SeqCst);
            }
            answer(
                &mut conn,
                &format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            );
        }
    });
    let (client, join) = ControlThread::spawn(ControlConfig {
        extra_root_ca: Some(CaCert::Pem(ca.ca_pem.clone().into_bytes())),
        timeout: Duration::from_secs(3),
        ..Default::default()
    })
    .unwrap();
    client
        .submit(HttpRequest {
            id: 7,
            method: HttpMethod::Post,
            url: format!(
                "https://{}/api/v3/userDataStream?timestamp=1&signature=ab",
                origin.addr
            ),
            headers: vec![("X-MEXC-APIKEY".into(), "mx0key".into())],
            body: Vec::new(),
        })
        .unwrap();
    let r = wait_reply(&client);
    assert_eq!(r.id, 7);
    // The 3xx is the answer: handed back as a status reply, which the listen-key parser
    // reports as an error (HTTP 302), not followed.
    let (status, body) = r.result.unwrap();
    assert_eq!(status, 302);
    let e = cexfeed::exchange::mexc::parse_listen_key_response(status, &body).unwrap_err();
    assert!(e.to_string().contains("HTTP 302"), "{e}");
    assert!(
        origin_saw_key.load(Ordering::SeqCst),
        "the request itself carried the key"
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        target.accepted.load(Ordering::SeqCst),
        0,
        "redirect followed"
    );
    assert!(
        !target_saw_key.load(Ordering::SeqCst),
        "API key re-sent to the redirect target"
    );
    client.stop();
    join.join().unwrap();
}

#[test]
fn issue12_defect5_rest_refuses_plain_http_to_a_non_loopback_host() {
    let (client, join) = ControlThread::spawn(ControlConfig::default()).unwrap();
    client
        .submit(HttpRequest {
            id: 1,
            method: HttpMethod::Put,
            // 192.0.2.0/24 is TEST-NET-1: never reached, the request is refused before.
            url: "http://192.0.2.1/api/v3/userDataStream?listenKey=LK-SECRET-123&signature=ab"
                .into(),
            headers: vec![("X-MEXC-APIKEY".into(), "mx0key".into())],
            body: Vec::new(),
        })
        .unwrap();
    let r = wait_reply(&client);
    let e = r.result.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("192.0.2.1") && text.contains("http://"),
        "{text}"
    );
    assert!(!text.contains("LK-SECRET-123"), "{text}");
    client.stop();
    join.join().unwrap();
}

/// One rule for the extra CA on both paths: trusted for the listed hosts only. The server's
/// certificate (127.0.0.1, localhost) is signed by the extra CA; listed as `127.0.0.1` both
/// the WebSocket and the REST call succeed; with the host not listed (only `localhost`, or
/// nothing) both refuse it, because web PKI does not know that CA.
#[test]
fn issue12_defect5_extra_ca_rule_is_the_same_on_websocket_and_rest() {
    let ca = test_ca();
    let cases: [(&[&str], bool); 3] = [
        (&["127.0.0.1"], true),
        (&["localhost"], false),
        (&[], false),
    ];
    for (listed, trusted) in cases {
        let listed: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
        // WebSocket.
        let ws_srv = serve(Some(ca.server.clone()), 1, |_, conn| {
            let _ = conn.tcp().set_read_timeout(Some(Duration::from_secs(5)));
            if let Ok(mut ws) = tungstenite::accept(conn) {
                let _ = ws.send(tungstenite::Message::text("hi"));
                while ws.read().is_ok() {}
            }
        });
        let mut spec = fast_spec(&ws_srv.wss_url());
        spec.extra_root_ca = Some(CaCert::Pem(ca.ca_pem.clone().into_bytes()));
        spec.extra_ca_hosts = listed.clone();
        let (mut r, ev, _) = reactor(spec, None);
        assert!(run_until(&mut r, &ev, LIMIT, |e| !texts(e).is_empty()
            || !downs(e).is_empty()));
        let ws_ok = texts(&ev.lock().unwrap()) == ["hi"];
        if !ws_ok {
            assert_eq!(downs(&ev.lock().unwrap())[0], cexfeed::net::DownReason::Tls);
        }
        drop(r);
        // REST.
        let rest_srv = serve(Some(ca.server.clone()), 1, |_, mut conn| {
            if read_head(&mut conn).is_some() {
                answer(
                    &mut conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        let (client, join) = ControlThread::spawn(ControlConfig {
            extra_root_ca: Some(CaCert::Pem(ca.ca_pem.clone().into_bytes())),
            extra_ca_hosts: listed.clone(),
            timeout: Duration::from_secs(3),
            ..Default::default()
        })
        .unwrap();
        client
            .submit(HttpRequest {
                id: 1,
                method: HttpMethod::Get,
                url: format!("https://{}/api/v3/depth?symbol=BTCUSDT", rest_srv.addr),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .unwrap();
        let reply = wait_reply(&client).result;
        let rest_ok = reply == Ok((200, b"ok".to_vec()));
        assert_eq!(
            (ws_ok, rest_ok),
            (trusted, trusted),
            "listed {listed:?}: websocket {ws_ok}, rest {reply:?}"
        );
        client.stop();
        join.join().unwrap();
    }
}
