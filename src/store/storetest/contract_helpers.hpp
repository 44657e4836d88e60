// Helpers shared by the store contract tests: building users, spaces and messages the way the app
// does, through the Store interface only.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace rounds::store::storetest {

inline constexpr UnixMillis kNow = 1'750'000'000'000;

// The internal message of a failed Result, for assertion output; empty on success.
template <class R>
std::string Describe(const R& result) {
  if (result) return {};
  return std::string(ErrorCodeName(result.error().code)) + " " + result.error().problem + ": " +
         result.error().internal_message;
}

inline User MakeUser(const std::string& username) {
  User u;
  u.username = username;
  u.display_name = "User " + username;
  u.email = username + "@example.org";
  u.job_role = "Registered Nurse";
  u.created_at = kNow;
  return u;
}

inline UserId AddUser(Store& store, const std::string& username) {
  auto id = store.Write([&](WriteTx& tx) { return tx.InsertUser(MakeUser(username), "hash"); });
  EXPECT_TRUE(id) << Describe(id);
  return id.value_or(0);
}

inline SpaceId AddSpace(Store& store, const std::string& name, UserId owner,
                        Visibility visibility = Visibility::kPublic,
                        SpaceKind kind = SpaceKind::kCommunity) {
  auto id = store.Write([&](WriteTx& tx) -> Result<SpaceId> {
    Space s;
    s.kind = kind;
    s.name = name;
    s.visibility = visibility;
    s.join_policy = visibility == Visibility::kPublic ? JoinPolicy::kOpen : JoinPolicy::kInvite;
    s.created_by = owner;
    s.created_at = kNow;
    ROUNDS_ASSIGN_OR_RETURN(SpaceId space_id, tx.InsertSpace(s));
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership({space_id, owner, MemberRole::kOwner, 0, kNow}));
    return space_id;
  });
  EXPECT_TRUE(id) << Describe(id);
  return id.value_or(0);
}

inline Status Join(Store& store, SpaceId space, UserId user, MemberRole role = MemberRole::kMember) {
  return store.Write([&](WriteTx& tx) { return tx.UpsertMembership({space, user, role, 0, kNow}); });
}

struct Draft {
  std::string body;
  std::string title;
  MessageKind kind = MessageKind::kMessage;
  std::optional<MessageId> parent_id;
  std::string client_id;
  std::vector<UserId> mentions;
  std::vector<std::string> poll_options;
};

// Writes a message the way the app does: reserve the space's next seq, insert the message and its
// event, all in one unit.
inline Message NewMessage(SpaceId space, UserId author, const Draft& draft) {
  Message m;
  m.space_id = space;
  m.author_id = author;
  m.kind = draft.kind;
  m.parent_id = draft.parent_id;
  m.title = draft.title;
  m.body = draft.body;
  m.client_id = draft.client_id;
  m.mentions = draft.mentions;
  for (std::size_t i = 0; i < draft.poll_options.size(); ++i) {
    m.poll_options.push_back({static_cast<int>(i), draft.poll_options[i], 0});
  }
  m.created_at = kNow;
  return m;
}

inline Result<Message> PostIn(WriteTx& tx, Message m) {
  ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(m.space_id));
  ROUNDS_ASSIGN_OR_RETURN(m.id, tx.InsertMessage(m));
  ROUNDS_RETURN_IF_ERROR(tx.InsertEvent(
      {m.space_id, m.seq, "message.created", "{\"id\":" + std::to_string(m.id) + "}", kNow}));
  return m;
}

inline Result<Message> Post(Store& store, SpaceId space, UserId author, const Draft& draft) {
  return store.Write([&](WriteTx& tx) { return PostIn(tx, NewMessage(space, author, draft)); });
}

inline Result<Message> Post(Store& store, SpaceId space, UserId author, const std::string& body) {
  return Post(store, space, author, Draft{.body = body});
}

inline std::vector<SearchHit> Search(Store& store, const std::string& text,
                                     std::vector<SpaceId> spaces, int limit = 20, int offset = 0) {
  EXPECT_TRUE(store.CatchUpSearch());
  auto hits = store.Read([&](ReadTx& tx) {
    return tx.SearchMessages({text, std::move(spaces), limit, offset});
  });
  EXPECT_TRUE(hits) << text << ": " << Describe(hits);
  return hits.value_or(std::vector<SearchHit>{});
}

inline std::optional<Message> FindMessage(Store& store, MessageId id, UserId viewer) {
  auto found = store.Read([&](ReadTx& tx) { return tx.FindMessage(id, viewer); });
  EXPECT_TRUE(found) << Describe(found);
  return found.value_or(std::nullopt);
}

inline std::vector<Message> List(Store& store, MessageQuery query) {
  auto page = store.Read([&](ReadTx& tx) { return tx.ListMessages(query); });
  EXPECT_TRUE(page) << Describe(page);
  return page.value_or(std::vector<Message>{});
}

inline std::vector<std::string> Bodies(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.body);
  return out;
}

inline std::optional<MemberSpace> SidebarEntry(Store& store, UserId user, SpaceId space) {
  auto spaces = store.Read([&](ReadTx& tx) { return tx.ListSpacesForUser(user); });
  EXPECT_TRUE(spaces) << Describe(spaces);
  if (!spaces) return std::nullopt;
  for (const auto& entry : *spaces) {
    if (entry.space.id == space) return entry;
  }
  return std::nullopt;
}

}  // namespace rounds::store::storetest
