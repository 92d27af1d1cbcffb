// FieldPath: builds google.rpc.BadRequest field paths
// ("snapshot.daemon_sets[2].template.tolerations[0].operator",
// labels["kubernetes.io/os"]) lazily: validation pushes and pops segments,
// and a string is rendered only when a violation is reported, so valid
// requests pay no string building.
#ifndef DSD_SERVER_CONVERT_FIELD_PATH_H_
#define DSD_SERVER_CONVERT_FIELD_PATH_H_

#include <string>
#include <string_view>
#include <vector>

namespace dsd::convert {

class FieldPath {
 public:
  explicit FieldPath(std::string_view root) { Push(root, -1, {}); }

  // RAII segment: popped when the scope ends.
  class Scope {
   public:
    explicit Scope(FieldPath& path) : path_(path) {}
    ~Scope() { path_.segments_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    FieldPath& path_;
  };

  // ".name"
  [[nodiscard]] Scope Field(std::string_view name) {
    Push(name, -1, {});
    return Scope(*this);
  }
  // ".name[index]"
  [[nodiscard]] Scope Index(std::string_view name, size_t index) {
    Push(name, static_cast<long>(index), {});
    return Scope(*this);
  }
  // ".name["key"]" (label maps: keys hold dots and slashes)
  [[nodiscard]] Scope Key(std::string_view name, std::string_view key) {
    Push(name, -1, key);
    segments_.back().keyed = true;
    return Scope(*this);
  }

  // The current path, plus ".leaf" when `leaf` is non-empty.
  std::string Render(std::string_view leaf = {}) const;

 private:
  struct Segment {
    std::string_view name;
    long index;
    std::string_view key;
    bool keyed = false;
  };
  void Push(std::string_view name, long index, std::string_view key) {
    segments_.push_back({name, index, key, false});
  }
  std::vector<Segment> segments_;
};

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_FIELD_PATH_H_
