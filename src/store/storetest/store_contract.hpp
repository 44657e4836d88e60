// The store contract suite: every Store implementation must pass it. A backend registers itself
// with INSTANTIATE_TEST_SUITE_P(Name, StoreContractTest, ::testing::Values(StoreBackend{...})).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace rounds::store::storetest {

struct StoreBackend {
  std::string name;
  // Opens the store kept at `location` (a fresh folder per test). Opening the same location
  // twice (after Close) must reopen the same data.
  std::function<Result<std::unique_ptr<Store>>(const std::string& location)> open;
  // Whether Backup() produces a file this backend can open with `open`.
  bool backup_reopens = true;
};

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  Store& store() { return *store_; }
  void Reopen();

  std::string location_;
  std::unique_ptr<Store> store_;
};

}  // namespace rounds::store::storetest
