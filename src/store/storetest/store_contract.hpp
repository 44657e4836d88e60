// The store contract suite: every Store implementation must pass it. It is written only against
// the Store interface; a backend registers itself with
//   INSTANTIATE_TEST_SUITE_P(Name, StoreContractTest, ::testing::Values(StoreBackend{...}));
// Each test gets a fresh, empty folder and a store opened in it.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.hpp"

namespace rounds::store::storetest {

// How the suite opens a backend.
struct StoreBackend {
  std::string name;
  // Opens the store kept at `location` (an empty folder the first time). Opening the same
  // location again after Close() must reopen the same data.
  std::function<Result<std::unique_ptr<Store>>(const std::string& location)> open;
  // Whether Backup(path) writes a file that `open` can serve from when the file is placed in a
  // fresh folder under the name `backup_file_name`.
  bool backup_reopens = true;
  std::string backup_file_name = "rounds.db";
};

// gtest prints the backend's name in test output instead of its bytes.
inline void PrintTo(const StoreBackend& backend, std::ostream* out) { *out << backend.name; }

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  Store& store() { return *store_; }
  // Closes the store and opens the same location again.
  void Reopen();
  // A fresh empty folder beside the test's own, removed after the test.
  std::string NewFolder(const std::string& suffix);

  std::string location_;
  std::unique_ptr<Store> store_;

 private:
  std::vector<std::string> extra_folders_;
};

}  // namespace rounds::store::storetest
