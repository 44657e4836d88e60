// Store contract: emergency access grants.
#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store::storetest {
namespace {

constexpr UnixMillis kHour = 60LL * 60 * 1000;

Result<EmergencyGrantId> InsertGrant(Store& store, UserId user, SpaceId space, UnixMillis started, UnixMillis expires) {
  return store.Write([&](WriteTx& tx) {
    EmergencyGrant g;
    g.user_id = user;
    g.space_id = space;
    g.reason = "rapid response";
    g.started_at = started;
    g.expires_at = expires;
    return tx.InsertEmergencyGrant(g);
  });
}

EmergencyGrantId AddGrant(Store& store, UserId user, SpaceId space, UnixMillis started, UnixMillis expires) {
  auto id = InsertGrant(store, user, space, started, expires);
  EXPECT_TRUE(id) << Describe(id);
  return id.value_or(0);
}

std::vector<EmergencyGrantId> Ids(const Result<std::vector<EmergencyGrant>>& grants) {
  EXPECT_TRUE(grants) << Describe(grants);
  std::vector<EmergencyGrantId> out;
  for (const auto& g : grants.value_or(std::vector<EmergencyGrant>{})) out.push_back(g.id);
  return out;
}

TEST_P(StoreContractTest, EmergencyGrantsAreActiveUntilTheyExpireOrEndAndEndAndAreReviewedOnce) {
  UserId owner = AddUser(store(), "owner");
  UserId nurse = AddUser(store(), "nurse");
  SpaceId ward = AddSpace(store(), "Ward", owner);
  EmergencyGrantId first = AddGrant(store(), nurse, ward, kNow, kNow + kHour);
  ASSERT_GT(first, 0);

  auto active = [&](UnixMillis at) {
    return store().Read([&](ReadTx& tx) { return tx.FindActiveEmergencyGrant(ward, nurse, at); });
  };
  ASSERT_TRUE(active(kNow) && *active(kNow));
  EXPECT_EQ((*active(kNow))->reason, "rapid response");
  EXPECT_EQ((*active(kNow))->purpose, "BTG");
  EXPECT_TRUE(*active(kNow + kHour - 1));
  EXPECT_FALSE(*active(kNow + kHour)) << "not active at its expiry";
  EXPECT_FALSE(*store().Read([&](ReadTx& tx) { return tx.FindActiveEmergencyGrant(ward, owner, kNow); }));

  auto lapsed = store().Read([&](ReadTx& tx) { return tx.ListLapsedEmergencyGrants(kNow + kHour, 10); });
  EXPECT_EQ(Ids(lapsed), std::vector<EmergencyGrantId>{first});
  EXPECT_TRUE(Ids(store().Read([&](ReadTx& tx) { return tx.ListLapsedEmergencyGrants(kNow, 10); })).empty());

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.EndEmergencyGrant(first, "ended", nurse, kNow + 5); }));
  EXPECT_FALSE(*active(kNow + 10));
  auto twice = store().Write([&](WriteTx& tx) { return tx.EndEmergencyGrant(first, "revoked", owner, kNow + 6); });
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_EQ(twice.error().problem, "grant_ended");
  auto missing = store().Write([&](WriteTx& tx) { return tx.EndEmergencyGrant(first + 100, "ended", nurse, kNow); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Ids(store().Read([&](ReadTx& tx) { return tx.ListLapsedEmergencyGrants(kNow + kHour, 10); })).empty())
      << "an ended grant never lapses";
  auto bad_end = store().Write([&](WriteTx& tx) { return tx.EndEmergencyGrant(first, "forgotten", nurse, kNow); });
  EXPECT_FALSE(bad_end) << "only ended, expired or revoked";

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReviewEmergencyGrant(first, "justified", "ok", owner, kNow + 9); }));
  auto reviewed = store().Read([&](ReadTx& tx) { return tx.FindEmergencyGrant(first); });
  ASSERT_TRUE(reviewed && *reviewed);
  EXPECT_EQ((*reviewed)->end_kind, "ended");
  EXPECT_EQ((*reviewed)->ended_by, nurse);
  EXPECT_EQ((*reviewed)->ended_at, kNow + 5);
  EXPECT_EQ((*reviewed)->review_outcome, "justified");
  EXPECT_EQ((*reviewed)->reviewed_by, owner);
  auto again = store().Write([&](WriteTx& tx) { return tx.ReviewEmergencyGrant(first, "unjustified", "no", owner, kNow); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "grant_reviewed");

  // Listing: newest first, by user and state, with a cursor.
  EmergencyGrantId second = AddGrant(store(), nurse, ward, kNow + 10, kNow + 20);   // lapses, unreviewed
  EmergencyGrantId third = AddGrant(store(), owner, ward, kNow + 10, kNow + kHour);  // active
  auto list = [&](GrantQuery q) { return Ids(store().Read([&](ReadTx& tx) { return tx.ListEmergencyGrants(q); })); };
  EXPECT_EQ(list({.now = kNow + 30}), (std::vector<EmergencyGrantId>{third, second, first}));
  EXPECT_EQ(list({.user_id = nurse, .now = kNow + 30}), (std::vector<EmergencyGrantId>{second, first}));
  EXPECT_EQ(list({.state = GrantState::kActive, .now = kNow + 30}), std::vector<EmergencyGrantId>{third});
  EXPECT_EQ(list({.state = GrantState::kUnreviewed, .now = kNow + 30}), std::vector<EmergencyGrantId>{second});
  EXPECT_EQ(list({.now = kNow + 30, .before_id = third, .limit = 1}), std::vector<EmergencyGrantId>{second});
  // Counts for /metrics, by the same rules: the reviewed first is neither.
  auto counts = [&](UnixMillis at) { return *store().Read([&](ReadTx& tx) { return tx.CountEmergencyGrants(at); }); };
  EXPECT_EQ(counts(kNow + 15).active, 2);      // second and third
  EXPECT_EQ(counts(kNow + 15).unreviewed, 0);
  EXPECT_EQ(counts(kNow + 20).active, 1) << "second stops at its expiry";
  EXPECT_EQ(counts(kNow + 20).unreviewed, 1);
  EXPECT_EQ(counts(kNow + kHour + 10).active, 0);
  EXPECT_EQ(counts(kNow + kHour + 10).unreviewed, 2);

  auto officers = store().Read([](ReadTx& tx) { return tx.ListComplianceOfficerIds(); });
  ASSERT_TRUE(officers);
  EXPECT_TRUE(officers->empty());
}

TEST_P(StoreContractTest, EmergencyGrantsRefuseWhatTheyCannotBe) {
  UserId owner = AddUser(store(), "owner");
  SpaceId ward = AddSpace(store(), "Ward", owner);
  auto backwards = InsertGrant(store(), owner, ward, kNow, kNow);
  EXPECT_FALSE(backwards) << "a grant that expires when it starts";
  auto nobody = InsertGrant(store(), owner + 100, ward, kNow, kNow + 1);
  EXPECT_FALSE(nobody) << "for an account that does not exist";
}

}  // namespace
}  // namespace rounds::store::storetest
