-- Salon's audio cache, inside each nginx worker (deploy/nginx/salon.conf loads it).
--
-- Every audio request (a space's live LL-HLS or its replay) is answered from a table of
-- objects this worker holds. The first request for an object not held fetches it from the
-- origin: a plain HTTP/1.0 request over a cosocket (subrequests are not allowed under
-- HTTP/2) to this nginx's own loopback server, which proxies it to the origin nodes with
-- nginx's upstream failover (deploy/nginx/salon.conf); every
-- other request for the same object meanwhile waits on that fetch's semaphore and is woken
-- the moment it lands. A blocking playlist reload or a preload-hinted part at the live edge
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

local semaphore = require "ngx.semaphore"

local ngx = ngx
local var = ngx.var
local header = ngx.header
local now = ngx.now
local tcp = ngx.socket.tcp
local say = ngx.print

local M = {}

local FETCH_HOST, fetch_port = "127.0.0.1", nil
local WAIT_SECONDS = 35 -- past the origin proxy's connect (3 s) and read (30 s) timeouts
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

local function problem(status, title, detail)
    ngx.status = status
    header["Content-Type"] = "application/problem+json"
    header["Cache-Control"] = "no-store"
    say('{"type":"about:blank","title":"', title, '","status":', status, ',"detail":"',
        detail, '"}')
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

-- In each worker: its share of the cache's size, the port of the fetching server, the sweep.
function M.init(total_bytes, port)
    budget = math.floor(total_bytes / ngx.worker.count())
    fetch_port = port
    local ok, err = ngx.timer.every(1, M.sweep)
    if not ok then
        ngx.log(ngx.ERR, "salon_audio: no sweep timer: ", err)
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

-- The origin's answer (status, headers by lower-case name, body), or nil when none came.
local function request_origin(uri, query)
    local sock = tcp()
    sock:settimeouts(3000, 5000, WAIT_SECONDS * 1000)
    local ok, err = sock:connect(FETCH_HOST, fetch_port)
    if not ok then
        ngx.log(ngx.ERR, "salon_audio: no fetching server: ", err)
        return nil
    end
    local target = query ~= "" and (uri .. "?" .. query) or uri
    local sent
    sent, err = sock:send({
        "GET ", target, " HTTP/1.0\r\nHost: ", var.http_host or "salon",
        "\r\nX-Forwarded-For: ", var.remote_addr,
        "\r\nX-Forwarded-Proto: ", var.scheme,
        "\r\nX-Salon-Edge: 1\r\n\r\n",
    })
    if not sent then
        sock:close()
        return nil
    end
    local answer
    answer, err = sock:receive("*a") -- HTTP/1.0: the body ends when the server closes
    sock:close()
    if not answer then
        ngx.log(ngx.ERR, "salon_audio: fetching ", target, ": ", err)
        return nil
    end
    local split = answer:find("\r\n\r\n", 1, true)
    if not split then
        return nil
    end
    local head = answer:sub(1, split - 1)
    local status = tonumber(head:match("^HTTP/1%.%d (%d%d%d)"))
    if not status then
        return nil
    end
    local headers = {}
    for name, value in head:gmatch("\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
        headers[name:lower()] = value
    end
    return status, headers, answer:sub(split + 4)
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
    return {
        status = 503,
        headers = {
            ["content-type"] = "application/problem+json",
            ["cache-control"] = "no-store",
            ["retry-after"] = "1",
        },
        body = '{"type":"about:blank","title":"Service Unavailable","status":503,'
            .. '"detail":"the audio origin did not answer; try again"}',
        size = 512,
        expires = now() + 0.5,
        ttl = 0.5,
    }
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
    header["X-Cache"] = cache
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
        header["Allow"] = "GET, HEAD"
        return problem(405, "Method Not Allowed", "only GET and HEAD reach the audio cache")
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
            return problem(504, "Gateway Timeout",
                "the audio origin did not answer in time; try again")
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
