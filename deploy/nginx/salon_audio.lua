-- Salon's audio cache, inside each nginx worker (deploy/nginx/salon.conf loads it).
--
-- Every audio request (a space's live LL-HLS or its replay) is answered from a table of
-- objects this worker holds. The first request for an object not held fetches it from an
-- origin node (an HTTP/1.1 request over a kept-alive cosocket: nginx allows no subrequest
-- under HTTP/2); every other request for the same object meanwhile waits on that fetch's
-- semaphore and is woken the moment it lands. A blocking playlist reload or a preload-hinted part at the live edge
-- therefore costs the origin one request per worker, whatever the audience, and costs the
-- edge one HTTP hop and no thread switch (waiting is a parked coroutine in the worker's own
-- event loop).
--
-- How long an object is kept (the rules the origin's Cache-Control and the URL give):
--   * an error (4xx/5xx): 0.5 s, except a 403 for a credential path (that one listener's
--     credential was refused: never shared beyond the requests already waiting with it);
--   * live.m3u8 and audience.json: 0.3 s (they change with every part);
--   * otherwise s-maxage or max-age (media: a year, "immutable"; a blocking reload's
--     answer: 6 s), at most an hour; no-store/no-cache/private without max-age: not kept
--     (the waiters of that one fetch still share it).
-- The objects of a worker hold at most its share of the cache's size (`init`): past it the
-- oldest are dropped first, and expired ones are swept every second.
--
-- The nodes: each fetch goes to the next node in turn among those up; one that refuses or
-- drops the connection is passed over for the next (two more at most). With several nodes,
-- worker 0 asks each for GET /healthz every second (1 s to answer 200): a node is up while
-- at least 2 of its last 3 answers were good (so it is out ~2 s after it dies or loses its
-- database, and back after two good ones), counted up at start. The verdicts live in the
-- shared dict salon_nodes, for every worker. A single node is never probed.

local semaphore = require "ngx.semaphore"

local ngx = ngx
local var = ngx.var
local header = ngx.header
local now = ngx.now
local tcp = ngx.socket.tcp
local say = ngx.print

local M = {}

local CONNECT_MS, SEND_MS, KEEP_IDLE_MS = 3000, 5000, 4000
-- Blocking reloads wait at the origin for the next part (a few seconds at most).
local WAIT_SECONDS = 35
local MAX_RETRIES = 2
local PROBE_MS = 1000
local MAX_TTL = 3600
-- The origin's headers (kept by their lower-case names) that a cached answer does not repeat:
-- hop-by-hop ones, those nginx writes itself (CORS on audio included), and cookies (the
-- answer is everyone's).
local NOT_KEPT = {
    ["connection"] = true, ["keep-alive"] = true, ["transfer-encoding"] = true,
    ["content-length"] = true, ["date"] = true, ["server"] = true, ["set-cookie"] = true,
    ["access-control-allow-origin"] = true, ["x-cache"] = true,
}

local objects = {} -- key -> object
local order, first, last = {}, 1, 0 -- keys (with their object) oldest first, for eviction
local held_bytes, budget = 0, 64 * 1024 * 1024
local fetches = {} -- key -> { sema = semaphore, waiters = n, object = set when landed }

-- An answer of the cache's own: a JSON problem, kept `ttl` seconds (0: not kept).
local function problem(status, title, detail, ttl, extra_headers)
    local headers = { ["content-type"] = "application/problem+json", ["cache-control"] = "no-store" }
    for name, value in pairs(extra_headers or {}) do
        headers[name] = value
    end
    local body = '{"type":"about:blank","title":"' .. title .. '","status":' .. status
        .. ',"detail":"' .. detail .. '"}'
    return { status = status, headers = headers, body = body, size = #body + 256,
             expires = now() + ttl, ttl = ttl }
end

local function drop(key, object)
    if objects[key] == object then
        objects[key] = nil
        held_bytes = held_bytes - object.size
    end
end

local function keep(key, object)
    local old = objects[key]
    if old then
        drop(key, old)
    end
    objects[key] = object
    held_bytes = held_bytes + object.size
    last = last + 1
    order[last] = { key, object }
    while held_bytes > budget and first <= last do
        local entry = order[first]
        order[first] = nil
        first = first + 1
        drop(entry[1], entry[2])
    end
end

-- Expired objects out, and the eviction order compacted to the objects still held.
function M.sweep()
    local t = now()
    for key, object in pairs(objects) do
        if object.expires <= t then
            drop(key, object)
        end
    end
    local compact, n = {}, 0
    for i = first, last do
        local entry = order[i]
        if objects[entry[1]] == entry[2] then
            n = n + 1
            compact[n] = entry
        end
    end
    order, first, last = compact, 1, n
end

local nodes = {} -- { host = "10.0.0.2" or "[::1]", port = 8000, name = "10.0.0.2:8000" }
local turn = 0
local verdicts = ngx.shared.salon_nodes

local function up(index)
    return #nodes == 1 or verdicts:get("node" .. index) ~= false
end

-- One probe: does the node answer GET /healthz with a 200 within PROBE_MS?
local function healthy(node)
    local sock = tcp()
    sock:settimeouts(PROBE_MS, PROBE_MS, PROBE_MS)
    local ok = sock:connect(node.host, node.port)
    if not ok then
        return false
    end
    ok = sock:send("GET /healthz HTTP/1.0\r\nHost: salon-edge-probe\r\n\r\n")
    local line = ok and sock:receive("*l")
    sock:close()
    return line ~= nil and line:find("^HTTP/1%.%d 200 ") ~= nil
end

local windows = {} -- node index -> its last three probes, "1" good, "0" not
local probing = false

local function probe_round()
    local threads = {}
    for index, node in ipairs(nodes) do
        threads[index] = ngx.thread.spawn(healthy, node)
    end
    for index, thread in ipairs(threads) do
        local finished, answer = ngx.thread.wait(thread)
        local good = finished and answer == true
        local window = (windows[index] or "111"):sub(2) .. (good and "1" or "0")
        windows[index] = window
        local _, goods = window:gsub("1", "")
        local now_up = goods >= 2
        if up(index) ~= now_up then
            verdicts:set("node" .. index, now_up)
            ngx.log(ngx.WARN, "salon_audio: origin node ", nodes[index].name,
                now_up and " is up" or " is down (GET /healthz)")
        end
    end
end

local function probe_all(premature)
    if premature or probing then
        return
    end
    probing = true
    local ok, err = pcall(probe_round)
    probing = false
    if not ok then
        ngx.log(ngx.ERR, "salon_audio: probing the origin nodes: ", err)
    end
end

-- In each worker: its share of the cache's size, the origin nodes ("HOST:PORT", the host an
-- IP address, an IPv6 one in brackets), the sweep, and in worker 0 the probes.
function M.init(total_bytes, origins)
    budget = math.floor(total_bytes / ngx.worker.count())
    for index, origin in ipairs(origins) do
        local host, port = origin:match("^(.+):(%d+)$")
        nodes[index] = { host = host, port = tonumber(port), name = origin }
    end
    turn = ngx.worker.id() or 0
    local ok, err = ngx.timer.every(1, M.sweep)
    if not ok then
        ngx.log(ngx.ERR, "salon_audio: no sweep timer: ", err)
    end
    if #nodes > 1 and ngx.worker.id() == 0 then
        ok, err = ngx.timer.every(1, probe_all)
        if not ok then
            ngx.log(ngx.ERR, "salon_audio: no probe timer: ", err)
        end
    end
end

local function seconds_to_keep(status, uri, cache_control, credential)
    if status >= 400 then
        if status == 403 and credential then
            return 0
        end
        return 0.5
    end
    if uri:find("/live%.m3u8$") or uri:find("/audience%.json$") then
        return 0.3
    end
    if cache_control then
        local age = cache_control:match("s%-maxage=(%d+)") or cache_control:match("max%-age=(%d+)")
        if age then
            return math.min(tonumber(age), MAX_TTL)
        end
        if cache_control:find("no%-store") or cache_control:find("no%-cache")
            or cache_control:find("private") then
            return 0
        end
    end
    return 120
end

-- The body after the header block: Content-Length bytes, or chunks. nil when cut short.
local function read_body(sock, headers)
    local length = tonumber(headers["content-length"])
    if length then
        return length == 0 and "" or sock:receive(length)
    end
    if not (headers["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
        return nil -- neither: the node would end it by closing, which a kept-alive one does not
    end
    local chunks = {}
    while true do
        local line = sock:receive("*l")
        local size = line and tonumber(line:match("^%x+"), 16)
        if not size then
            return nil
        end
        if size == 0 then
            repeat -- trailers, up to the empty line
                line = sock:receive("*l")
            until not line or line == ""
            return line and table.concat(chunks) or nil
        end
        chunks[#chunks + 1] = sock:receive(size)
        if not chunks[#chunks] or not sock:receive(2) then
            return nil
        end
    end
end

-- One node's answer over a kept-alive HTTP/1.1 connection (the origin's fast path takes
-- these): status, headers (by lower-case name) and body; or nil, and whether another node
-- may be asked (nothing was answered: no connection, or it was dropped before any answer).
local function ask(node, target, fresh)
    local sock = tcp()
    sock:settimeouts(CONNECT_MS, SEND_MS, WAIT_SECONDS * 1000)
    local ok, err = sock:connect(node.host, node.port, { pool = node.name, pool_size = 32 })
    if not ok then
        ngx.log(ngx.WARN, "salon_audio: origin node ", node.name, ": ", err)
        return nil, true
    end
    local reused = (sock:getreusedtimes() or 0) > 0
    ok = sock:send({
        "GET ", target, " HTTP/1.1\r\nHost: ", var.http_host or "salon",
        "\r\nX-Forwarded-For: ", var.remote_addr,
        "\r\nX-Forwarded-Proto: ", var.scheme,
        "\r\nX-Salon-Edge: 1\r\n\r\n",
    })
    local head = ok and sock:receiveuntil("\r\n\r\n")()
    if not head then
        sock:close()
        if reused and not fresh then -- the node closed an idle connection: ask on a new one
            return ask(node, target, true)
        end
        return nil, true
    end
    local status = tonumber(head:match("^HTTP/1%.%d (%d%d%d)"))
    local headers = {}
    for name, value in head:gmatch("\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
        headers[name:lower()] = value
    end
    local body = status and ((status == 204 or status == 304) and "" or read_body(sock, headers))
    if not body then
        ngx.log(ngx.ERR, "salon_audio: origin node ", node.name, ", ", target, ": cut short")
        sock:close()
        return nil, false
    end
    if (headers["connection"] or ""):lower() == "close" then
        sock:close()
    else
        -- Idle no longer than the node keeps it (uvicorn: 5 s).
        sock:setkeepalive(KEEP_IDLE_MS)
    end
    return status, headers, body
end

-- The origin's answer for uri?query: from the next node up in turn, then the next ones when
-- a node does not answer at all.
local function request_origin(uri, query)
    local target = query ~= "" and (uri .. "?" .. query) or uri
    local count = #nodes
    turn = turn % count + 1
    local order = {}
    for k = 0, count - 1 do
        local index = (turn + k - 1) % count + 1
        if up(index) then
            order[#order + 1] = index
        end
    end
    if #order == 0 then -- every node is down by its probe: try them anyway
        for index = 1, count do
            order[index] = (turn + index - 2) % count + 1
        end
    end
    for attempt = 1, math.min(#order, 1 + MAX_RETRIES) do
        local status, headers_or_retry, body = ask(nodes[order[attempt]], target)
        if status then
            return status, headers_or_retry, body
        end
        if not headers_or_retry then -- the node took the request: asking again would wait twice
            return nil
        end
    end
    return nil
end

local function fetched(uri, query, credential)
    local status, received, body = request_origin(uri, query)
    if not status or status == 502 or status == 504 then
        return nil
    end
    local length = tonumber(received["content-length"])
    if length and length ~= #body then
        return nil -- cut short
    end
    local headers = {}
    for name, value in pairs(received) do
        if not NOT_KEPT[name] then
            headers[name] = value
        end
    end
    local ttl = seconds_to_keep(status, uri, headers["cache-control"], credential)
    return {
        -- A credential refused is that listener's own answer: not for the others waiting.
        private = status == 403 and credential,
        status = status,
        headers = headers,
        body = body,
        size = #body + 256,
        expires = now() + ttl,
        ttl = ttl,
    }
end

local function unavailable()
    return problem(503, "Service Unavailable", "the audio origin did not answer; try again", 0.5,
        { ["retry-after"] = "1" })
end

local function send(object, cache)
    local headers = object.headers
    local etag = headers["etag"]
    local status = object.status
    if status == 200 and type(etag) == "string" then
        local asked = var.http_if_none_match
        if asked and (asked == etag or asked:find(etag, 1, true)) then
            status = 304
        end
    end
    ngx.status = status
    for name, value in pairs(headers) do
        header[name] = value
    end
    if cache then
        header["X-Cache"] = cache
    end
    if status == 304 then
        return
    end
    header["Content-Length"] = #object.body
    say(object.body)
end

-- The content handler of the audio locations: $salon_audio is the object's path with the
-- credential left out (so all listeners share it), $salon_credential is "1" on a credential
-- path. Only the query parameters the origin reads go into the key and on to the origin.
function M.serve()
    local method = ngx.req.get_method()
    if method ~= "GET" and method ~= "HEAD" then
        return send(problem(405, "Method Not Allowed", "only GET and HEAD reach the audio cache",
            0, { allow = "GET, HEAD" }))
    end
    local query
    local uri = var.uri
    if uri:find("/audience%.json$") then
        local v = var.arg_v
        query = v and ("v=" .. v) or ""
    else
        local msn, part = var.arg__HLS_msn, var.arg__HLS_part
        if msn then
            query = part and ("_HLS_msn=" .. msn .. "&_HLS_part=" .. part) or ("_HLS_msn=" .. msn)
        else
            query = part and ("_HLS_part=" .. part) or ""
        end
    end
    local key = var.salon_audio .. "?" .. query

    local object = objects[key]
    if object then
        if object.expires > now() then
            return send(object, "hit")
        end
        drop(key, object)
    end

    local fetch = fetches[key]
    if fetch then
        fetch.waiters = fetch.waiters + 1
        fetch.sema:wait(WAIT_SECONDS)
        object = fetch.object
        if not object then
            return send(problem(504, "Gateway Timeout",
                "the audio origin did not answer in time; try again", 0))
        end
        if not object.private then
            return send(object, "hit")
        end
        -- Another listener's credential was refused: this one asks with its own.
        local ok, result = pcall(fetched, uri, query, true)
        return send(ok and result or unavailable(), "miss")
    end

    fetch = { sema = semaphore.new(), waiters = 0 }
    fetches[key] = fetch
    local credential = var.salon_credential == "1"
    local ok, result = pcall(fetched, uri, query, credential)
    if not ok then
        ngx.log(ngx.ERR, "salon_audio: fetching ", key, " failed: ", result)
    end
    object = ok and result or unavailable()
    fetch.object = object
    fetches[key] = nil
    if object.ttl > 0 then
        keep(key, object)
    end
    if fetch.waiters > 0 then
        fetch.sema:post(fetch.waiters)
    end
    return send(object, "miss")
end

return M
