// A Store decorator for tests that makes chosen read or write units fail, in the manner of LevelDB's
// EnvWrapper: faults go in around the code under test, not into it.
#pragma once

#include <atomic>

#include "store/store.hpp"

namespace rounds::store::storetest {

// Passes every call to `target`, except that it can make a chosen write unit fail *after* the
// unit ran in full against the real WriteTx: the unit's own writes happened, so the target must
// roll them back while committing the other units of the same batch. Thread-safe; `target` must
// outlive this object.
class FaultInjectionStore final : public Store {
 public:
  // The error an injected fault returns.
  static constexpr const char* kProblem = "injected_fault";

  explicit FaultInjectionStore(Store& target) : target_(target) {}

  // Makes the n-th write unit that runs from now on (1-based, in the order the target runs them)
  // fail with kInternal / kProblem. n <= 0 disarms.
  void FailNthWrite(int n) { countdown_.store(n); }
  // Makes the n-th read unit that starts from now on (1-based) fail with kInternal / kProblem
  // before it runs. n <= 0 disarms.
  void FailNthRead(int n) { read_countdown_.store(n); }
  // How many units have been made to fail so far.
  int injected() const { return injected_.load(); }

  Status RunWrite(std::function<Status(WriteTx&)> unit) override { return target_.RunWrite(Faulty(std::move(unit))); }
  void RunWriteAsync(std::function<Status(WriteTx&)> unit, std::function<void(Status)> done) override {
    target_.RunWriteAsync(Faulty(std::move(unit)), std::move(done));
  }
  Status RunRead(std::function<Status(ReadTx&)> unit) override {
    if (Due(read_countdown_)) return Fail(ErrorCode::kInternal, kProblem, "Injected fault.", "fault injection");
    return target_.RunRead(std::move(unit));
  }
  std::optional<Status> TryRunRead(std::function<Status(ReadTx&)> unit) override {
    if (Due(read_countdown_)) return Fail(ErrorCode::kInternal, kProblem, "Injected fault.", "fault injection");
    return target_.TryRunRead(std::move(unit));
  }
  std::optional<ChangeStamp> Stamp(SpaceId space) const override { return target_.Stamp(space); }
  Status CatchUpSearch() override { return target_.CatchUpSearch(); }
  Status Backup(const std::string& path) override { return target_.Backup(path); }
  StoreMetrics Metrics() const override { return target_.Metrics(); }
  void Close() override { target_.Close(); }

 private:
  // `unit`, run in full, then failed if it is the one due.
  std::function<Status(WriteTx&)> Faulty(std::function<Status(WriteTx&)> unit) {
    return [this, unit = std::move(unit)](WriteTx& tx) -> Status {
      Status status = unit(tx);
      if (Due(countdown_)) return Fail(ErrorCode::kInternal, kProblem, "Injected fault.", "fault injection");
      return status;
    };
  }
  // Counts a unit down; true for the one that is to fail.
  bool Due(std::atomic<int>& countdown) {
    int left = countdown.load();
    while (left > 0 && !countdown.compare_exchange_weak(left, left - 1)) {
    }
    if (left != 1) return false;
    ++injected_;
    return true;
  }

  Store& target_;
  std::atomic<int> countdown_{0};
  std::atomic<int> read_countdown_{0};
  std::atomic<int> injected_{0};
};

}  // namespace rounds::store::storetest
