// Adapters for servers that take messages on the WebSocket itself: XMPP over WebSocket (RFC 7395,
// one stanza per frame, so no streaming XML parser) and the bare broadcaster (every text frame is
// sent to every client on the same request path, the sender included). Both acknowledge a room
// message by reflecting it to its sender; that copy is the acknowledgement and is never counted
// as a delivery. Stanzas carry xmlns="jabber:client" (RFC 7395 3.3.3; Prosody closes the stream
// without it).
#include <sodium.h>

#include <boost/asio/this_coro.hpp>

#include "adapter.hpp"

// g++ 12 reports Asio's coroutine frames, allocated and freed by awaitable_frame_base's own
// operator new and delete, as mismatched when it inlines a long coroutine (a false positive).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace rounds::loadgen {

namespace {

// What both sessions share: one WebSocket, a kReady after each successful Connect, and a read loop
// that hands each text frame to Interpret().
class FramedSession : public Session {
 public:
  FramedSession(asio::any_io_executor executor, const Url& url, std::string bind_address)
      : url_(url), bind_address_(std::move(bind_address)), ws_(executor) {}

  Task<Incoming> Next() override {
    Incoming out;
    if (ready_pending_) {
      ready_pending_ = false;
      out.kind = Incoming::Kind::kReady;
      co_return out;
    }
    for (;;) {
      WsFrame frame = co_await ws_.Read();
      if (!frame.ok) {
        out.close_code = frame.close_code;
        out.error = frame.error;
        co_return out;
      }
      if (Interpret(std::move(frame.text), out)) co_return out;
    }
  }
  void Drop() override { ws_.Abort(); }

 protected:
  // Fills `out` from a frame and returns true, or returns false to skip the frame.
  virtual bool Interpret(std::string text, Incoming& out) = 0;

  const Url& url_;
  std::string bind_address_;
  WsConnection ws_;
  bool ready_pending_ = false;
};

// ---- bare ------------------------------------------------------------------------------------------

class BareSession final : public FramedSession {
 public:
  using FramedSession::FramedSession;

  Task<Status> Connect(bool) override {
    Status e = co_await ws_.Connect(url_, {}, "", bind_address_);
    ready_pending_ = e.empty();
    co_return e;
  }
  Task<Status> Send(std::string marker) override { co_return co_await ws_.Write(std::move(marker)); }
  Task<void> Close() override { co_await ws_.Close(); }

 private:
  bool Interpret(std::string text, Incoming& out) override {
    out.kind = Incoming::Kind::kMessage;
    out.marker = std::move(text);
    return true;
  }
};

// One room is the URL's own path (fan-out, idle); 1:1 pairs each get a path of their own under it.
class BareAdapter final : public Adapter {
 public:
  explicit BareAdapter(Url url) : url_(std::move(url)) {}
  std::string Name() const override { return "bare"; }
  AckMode Ack() const override { return AckMode::kEcho; }
  bool EchoesToSender(const Topology&) const override { return true; }
  Task<Status> Prepare(asio::any_io_executor, const Topology& topology, std::function<void(const std::string&)>) override {
    if (topology.groups.size() > 1 && !topology.direct) {
      co_return "the bare broadcaster has one room per path: several rooms are only 1:1 pairs (direct)";
    }
    // Sessions keep a reference to their URL: filled once, before any session exists.
    urls_.assign(static_cast<std::size_t>(topology.clients), url_);
    if (topology.direct) {
      const std::string base = url_.target.ends_with('/') ? url_.target : url_.target + "/";
      for (std::size_t g = 0; g < topology.groups.size(); ++g) {
        for (int member : topology.groups[g]) urls_[static_cast<std::size_t>(member)].target = base + "pair" + std::to_string(g);
      }
    }
    co_return Status{};
  }
  std::unique_ptr<Session> NewSession(asio::any_io_executor executor, int index, std::string bind_address) override {
    const Url& url = static_cast<std::size_t>(index) < urls_.size() ? urls_[static_cast<std::size_t>(index)] : url_;
    return std::make_unique<BareSession>(executor, url, std::move(bind_address));
  }

 private:
  Url url_;
  std::vector<Url> urls_;  // by client index
};

// ---- XMPP ------------------------------------------------------------------------------------------

constexpr const char kFraming[] = "urn:ietf:params:xml:ns:xmpp-framing";

std::string Base64(std::string_view data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

// The text between <tag> and </tag> (no attributes on the opening tag), or empty.
std::string_view Element(std::string_view stanza, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  auto begin = stanza.find(open);
  if (begin == std::string_view::npos) return {};
  begin += open.size();
  auto end = stanza.find("</" + std::string(tag) + ">", begin);
  if (end == std::string_view::npos) return {};
  return stanza.substr(begin, end - begin);
}

struct XmppPlan {
  std::string domain;
  std::string muc_service;
  std::string room;
  std::string user_prefix;
  std::string password;
  std::vector<std::string> to;          // per client: the room's or the peer's JID
  std::vector<bool> in_room;            // per client
};

class XmppSession final : public FramedSession {
 public:
  XmppSession(asio::any_io_executor executor, const Url& url, const XmppPlan& plan, int index, std::string bind_address)
      : FramedSession(executor, url, std::move(bind_address)), plan_(plan), index_(index) {}

  Task<Status> Connect(bool) override {
    const std::string user = plan_.user_prefix + std::to_string(index_);
    const std::string open = std::string("<open xmlns=\"") + kFraming + "\" to=\"" + plan_.domain + "\" version=\"1.0\"/>";
    Status e = co_await ws_.Connect(url_, {}, "xmpp", bind_address_);
    if (!e.empty()) co_return e;
    std::string frame;
    if (e = co_await ws_.Write(open); !e.empty()) co_return e;
    if (e = co_await Until("mechanisms", "", frame); !e.empty()) co_return "features: " + e;
    if (frame.find("PLAIN") == std::string::npos) co_return "the server offers no SASL PLAIN";
    std::string credentials = std::string(1, '\0') + user + std::string(1, '\0') + plan_.password;
    e = co_await ws_.Write("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">" + Base64(credentials) + "</auth>");
    if (!e.empty()) co_return e;
    if (e = co_await Until("<success", "<failure", frame); !e.empty()) co_return "auth: " + e;
    if (frame.starts_with("<failure")) co_return "SASL PLAIN refused for " + user + ": " + frame.substr(0, 200);
    if (e = co_await ws_.Write(open); !e.empty()) co_return e;
    if (e = co_await Until("urn:ietf:params:xml:ns:xmpp-bind", "", frame); !e.empty()) co_return "bind features: " + e;
    bool wants_session = frame.find("urn:ietf:params:xml:ns:xmpp-session") != std::string::npos &&
                         frame.find("<optional") == std::string::npos;
    e = co_await ws_.Write("<iq xmlns=\"jabber:client\" type=\"set\" id=\"bind1\"><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"><resource>lg" +
                           std::to_string(index_) + "</resource></bind></iq>");
    if (!e.empty()) co_return e;
    if (e = co_await Until("bind1", "", frame); !e.empty()) co_return "bind: " + e;
    if (frame.find("type=\"result\"") == std::string::npos && frame.find("type='result'") == std::string::npos) {
      co_return "bind refused: " + frame.substr(0, 200);
    }
    if (wants_session) {
      e = co_await ws_.Write("<iq xmlns=\"jabber:client\" type=\"set\" id=\"sess1\"><session xmlns=\"urn:ietf:params:xml:ns:xmpp-session\"/></iq>");
      if (!e.empty()) co_return e;
      if (e = co_await Until("sess1", "", frame); !e.empty()) co_return "session: " + e;
    }
    if (e = co_await ws_.Write("<presence xmlns=\"jabber:client\"/>"); !e.empty()) co_return e;
    if (plan_.in_room[static_cast<std::size_t>(index_)]) {
      const std::string& room = plan_.to[static_cast<std::size_t>(index_)];
      e = co_await ws_.Write("<presence xmlns=\"jabber:client\" to=\"" + room + "/" + user +
                             "\"><x xmlns=\"http://jabber.org/protocol/muc\"><history maxstanzas=\"0\"/></x></presence>");
      if (!e.empty()) co_return e;
      // Our own presence in the room carries status code 110; 201 means we just created the room,
      // which stays locked until its owner accepts the default configuration (XEP-0045 10.1.2).
      for (;;) {
        if (e = co_await Until("<presence", "", frame); !e.empty()) co_return "join: " + e;
        if (frame.find("type=\"error\"") != std::string::npos || frame.find("type='error'") != std::string::npos) {
          co_return "join refused: " + frame.substr(0, 300);
        }
        bool self = frame.find("code=\"110\"") != std::string::npos || frame.find("code='110'") != std::string::npos;
        if (!self) continue;
        if (frame.find("code=\"201\"") != std::string::npos || frame.find("code='201'") != std::string::npos) {
          e = co_await ws_.Write("<iq xmlns=\"jabber:client\" type=\"set\" id=\"cfg1\" to=\"" + room +
                                 "\"><query xmlns=\"http://jabber.org/protocol/muc#owner\"><x xmlns=\"jabber:x:data\" "
                                 "type=\"submit\"/></query></iq>");
          if (!e.empty()) co_return e;
          if (e = co_await Until("cfg1", "", frame); !e.empty()) co_return "room configuration: " + e;
        }
        break;
      }
    }
    ready_pending_ = true;
    co_return Status{};
  }

  Task<Status> Send(std::string marker) override {
    const bool room = plan_.in_room[static_cast<std::size_t>(index_)];
    co_return co_await ws_.Write("<message xmlns=\"jabber:client\" type=\"" + std::string(room ? "groupchat" : "chat") + "\" to=\"" +
                                 plan_.to[static_cast<std::size_t>(index_)] + "\" id=\"" + marker + "\"><body>" + marker +
                                 "</body></message>");
  }

  Task<void> Close() override {
    co_await ws_.Write(std::string("<close xmlns=\"") + kFraming + "\"/>");
    co_await ws_.Close();
  }

 private:
  bool Interpret(std::string text, Incoming& out) override {
    if (text.starts_with("<close")) {
      out.kind = Incoming::Kind::kClosed;
      out.error = "the server closed the XMPP stream";
      return true;
    }
    if (!text.starts_with("<message")) return false;  // presence, iq, stream management
    std::string_view body = Element(text, "body");
    if (body.empty()) return false;                    // chat states and the like
    out.kind = Incoming::Kind::kMessage;
    if (text.find("type=\"error\"") != std::string::npos || text.find("type='error'") != std::string::npos) {
      out.marker = "error:" + text.substr(0, 300);  // not a marker: counted as foreign
    } else {
      out.marker = std::string(body);
    }
    return true;
  }

  // Reads frames until one contains `first` or (when not empty) `second`; that frame is left in `frame`.
  Task<Status> Until(std::string_view first, std::string_view second, std::string& frame) {
    for (int frames = 0; frames < 10000; ++frames) {
      WsFrame f = co_await ws_.Read();
      if (!f.ok) co_return f.error;
      if (f.text.starts_with("<close")) co_return "stream closed: " + f.text.substr(0, 200);
      if (f.text.find(first) != std::string::npos || (!second.empty() && f.text.find(second) != std::string::npos)) {
        frame = std::move(f.text);
        co_return Status{};
      }
    }
    co_return "no answer";
  }

  const XmppPlan& plan_;
  int index_;
};

class XmppAdapter final : public Adapter {
 public:
  XmppAdapter(Url url, const AdapterOptions& options) : url_(std::move(url)) {
    plan_.domain = options.domain;
    plan_.muc_service = options.muc_service;
    plan_.room = options.room;
    plan_.user_prefix = options.user_prefix;
    plan_.password = options.password;
  }
  std::string Name() const override { return "xmpp"; }
  // A room reflects a groupchat message to its sender (the acknowledgement); a 1:1 chat message
  // has no acknowledgement in the core protocol, so it counts as sent once written.
  AckMode Ack() const override { return direct_ ? AckMode::kWrite : AckMode::kEcho; }
  bool EchoesToSender(const Topology& topology) const override { return !topology.direct; }

  Task<Status> Prepare(asio::any_io_executor, const Topology& topology, std::function<void(const std::string&)>) override {
    // Users and the room exist already (bench/peers/*.sh set them up); here only the addresses.
    direct_ = topology.direct;
    plan_.to.assign(static_cast<std::size_t>(topology.clients), "");
    plan_.in_room.assign(static_cast<std::size_t>(topology.clients), false);
    for (std::size_t g = 0; g < topology.groups.size(); ++g) {
      const auto& members = topology.groups[g];
      if (topology.direct && members.size() == 2) {
        plan_.to[static_cast<std::size_t>(members[0])] = plan_.user_prefix + std::to_string(members[1]) + "@" + plan_.domain;
        plan_.to[static_cast<std::size_t>(members[1])] = plan_.user_prefix + std::to_string(members[0]) + "@" + plan_.domain;
        continue;
      }
      std::string room = plan_.room + (g == 0 ? "" : "-" + std::to_string(g)) + "@" + plan_.muc_service;
      for (int m : members) {
        plan_.to[static_cast<std::size_t>(m)] = room;
        plan_.in_room[static_cast<std::size_t>(m)] = true;
      }
    }
    co_return Status{};
  }
  std::unique_ptr<Session> NewSession(asio::any_io_executor executor, int index, std::string bind_address) override {
    return std::make_unique<XmppSession>(executor, url_, plan_, index, std::move(bind_address));
  }

 private:
  Url url_;
  XmppPlan plan_;
  bool direct_ = false;
};

}  // namespace

std::unique_ptr<Adapter> MakeBareAdapter(const AdapterOptions& options, std::string& error) {
  auto url = ParseUrl(options.url);
  if (!url || url->scheme != "ws") {
    error = "--url must be ws://host:port/ of the bare broadcaster";
    return nullptr;
  }
  return std::make_unique<BareAdapter>(*url);
}

std::unique_ptr<Adapter> MakeXmppAdapter(const AdapterOptions& options, std::string& error) {
  auto url = ParseUrl(options.url);
  if (!url || url->scheme != "ws") {
    error = "--url must be ws://host:port/path of the XMPP WebSocket endpoint";
    return nullptr;
  }
  return std::make_unique<XmppAdapter>(*url, options);
}

}  // namespace rounds::loadgen
