vcl 4.1;

import directors;

# Salon's audio cache: Varnish between nginx (TLS, HTTP/2, the credential check) and the
# Salon origin node(s): {{ origin }}.
# A template: `salon edge` (src/salon/edge/render.py) fills in each placeholder (double braces).
#
# What it does:
# - caches media (init, parts, segments) as the origin says (immutable, a year), blocking
#   playlist reloads (_HLS_msn/_HLS_part) as the origin says (max-age=6), the plain live
#   playlist for 0.3 s (never staler than one 0.96 s segment), errors for 0.5 s;
# - collapses: while one request for an object is at the origin (a blocking reload or the
#   preload-hinted part waits there until the part is published), every other request for it
#   waits on Varnish's waiting list and is woken the moment the object lands;
# - keys objects by the path with a ticketed space's credential segment replaced by a fixed
#   marker, plus only _HLS_msn and _HLS_part: credentials, other query arguments, Host and
#   cookies are never part of a key, and ticketed and free objects never share one.
# The credential itself is checked by nginx before the request gets here, and again by the
# origin, which receives the full credentialed URL.
#
# The origin: one backend per Salon node (origin1, origin2, …) behind the round-robin
# director salon_origins. Any node answers any request (a node forwards a space's media to
# the node that runs it). With several nodes, each backend is probed on /healthz every second
# (probe salon_healthz: out after two failures of the last three, about 2 s after the node
# dies; back after two successes), and a fetch that finds its node dead (refused, reset,
# timed out) is tried again on the next node (up to {{ backend_retries }} more), so requests keep flowing
# while the probe catches up. A single node is not probed: there is nowhere else to send.
# Each backend reads:
#   backend origin1 {
#       .host = "10.0.0.2"; .port = "8000";
#       .connect_timeout = 2s; .first_byte_timeout = 30s; .between_bytes_timeout = 10s;
#       .probe = salon_healthz;    # several nodes only
#   }

{{ backends }}

sub vcl_init {
    new salon_origins = directors.round_robin();
    {{ director_backends }}
}

sub vcl_recv {
    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405, "only GET and HEAD reach the audio cache"));
    }
    if (req.url !~ "^/api/spaces/[A-Za-z0-9_-]{1,16}/(hls|recording)/[^/?]+(/[^/?]+)?(\?.*)?$") {
        return (synth(404, "not an audio URL"));
    }
    if (req.url ~ "^/api/spaces/[^/]+/[a-z]+/[^/?]+/" &&
        req.url !~ "^/api/spaces/[^/]+/[a-z]+/[0-9]{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}/") {
        return (synth(403, "this audio URL has no valid credential (missing or malformed)"));
    }
    # Audio is opened by its path, never by who asks: the builtin VCL would pass these.
    unset req.http.Cookie;
    unset req.http.Authorization;
    # One canonical URL: the path, then only the blocking-reload arguments, in one order.
    set req.http.X-Salon-Query = "";
    if (req.url ~ "[?&]_HLS_msn=") {
        set req.http.X-Salon-Query = "_HLS_msn=" + regsub(req.url, "^.*[?&]_HLS_msn=([^&#]*).*$", "\1");
    }
    if (req.url ~ "[?&]_HLS_part=") {
        set req.http.X-Salon-Query = req.http.X-Salon-Query + "&_HLS_part=" +
            regsub(req.url, "^.*[?&]_HLS_part=([^&#]*).*$", "\1");
    }
    # The audience view's blocking reload names its version the same way.
    if (req.url ~ "/audience\.json\?(.*&)?v=") {
        set req.http.X-Salon-Query = "v=" + regsub(req.url, "^.*[?&]v=([^&#]*).*$", "\1");
    }
    set req.url = regsub(req.url, "\?.*$", "");
    if (req.http.X-Salon-Query != "") {
        set req.url = req.url + "?" + regsub(req.http.X-Salon-Query, "^&", "");
    }
    unset req.http.X-Salon-Query;
    set req.backend_hint = salon_origins.backend();
    return (hash);
}

sub vcl_hash {
    # The credential segment becomes a marker no request can spell (it holds spaces), so a
    # ticketed space's objects are shared by all its listeners and never with a free URL.
    hash_data(regsub(req.url,
        "^(/api/spaces/[^/]+/[a-z]+)/[0-9]{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}/",
        "\1/<audio credential>/"));
    return (lookup);
}

sub vcl_backend_response {
    # A shared object never carries a cookie.
    unset beresp.http.Set-Cookie;
    if (beresp.status >= 400) {
        if (beresp.status == 403 &&
            bereq.url ~ "^/api/spaces/[^/]+/[a-z]+/[0-9]{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}/") {
            # The origin refused this one credential (its own re-check): not an answer for
            # the other listeners who share the key.
            set beresp.ttl = 0s;
            set beresp.grace = 0s;
            set beresp.uncacheable = true;
            return (deliver);
        }
        # The same for everyone (404 out of the window, 503 blocking timeout, 403 for a
        # ticketed space's plain URL): kept briefly, so waiters are released together.
        set beresp.ttl = 0.5s;
        set beresp.grace = 0s;
        return (deliver);
    }
    if (bereq.url ~ "/(live\.m3u8|audience\.json)$") {
        # The plain live playlist and audience view (the origin says no-cache): shared briefly.
        set beresp.ttl = 0.3s;
        set beresp.grace = 0.1s;
        return (deliver);
    }
    # Media and blocking reloads: as the origin's Cache-Control says.
    set beresp.grace = 0.1s;
    return (deliver);
}

sub vcl_backend_fetch {
    # The origin counts the players it serves itself; this edge reports its own.
    set bereq.http.X-Salon-Edge = "1";
    unset bereq.http.Cookie;
    unset bereq.http.Authorization;
}

sub vcl_backend_error {
    # A node did not answer (dead, restarting): the next node, if there is another.
    if (bereq.retries < {{ backend_retries }}) {
        return (retry);
    }
    # No origin answered (down, restarting): a problem body, kept briefly.
    set beresp.http.Content-Type = "application/problem+json";
    set beresp.http.Access-Control-Allow-Origin = "*";
    set beresp.http.Cache-Control = "no-store";
    synthetic("""{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the audio origin did not answer; try again"}""");
    set beresp.status = 503;
    set beresp.ttl = 0.5s;
    set beresp.grace = 0s;
    return (deliver);
}

sub vcl_synth {
    set resp.http.Content-Type = "application/problem+json";
    set resp.http.Access-Control-Allow-Origin = "*";
    set resp.http.Cache-Control = "no-store";
    synthetic("""{"type":"about:blank","title":"Error","status":""" + resp.status +
        {","detail":""} + resp.reason + """"}""");
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
