#include "server/convert/filter.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "server/convert/errors.h"
#include "server/convert/internal/unique_index.h"
#include "server/convert/limits.h"
#include "server/convert/rules.h"

namespace dsd::convert {

absl::Status ValidateFilterRequest(const v1::FilterRequest& request) {
  if (auto st = CheckRepeatedCaps(request, ""); !st.ok()) return st;
  std::vector<Violation> violations;
  Validator("options", violations).Options(request.options());
  Validator v("", violations);
  const auto& nodes = request.nodes();
  auto names = internal::MakeUniqueIndex(
      nodes.size(), [&nodes](uint32_t i) -> std::string_view {
        return nodes[static_cast<int>(i)].name();
      });
  for (int i = 0; i < nodes.size(); ++i) {
    auto scope = v.path().Index("nodes", static_cast<size_t>(i));
    v.Node(nodes[i]);
    if (!names.Insert(i)) v.Add("name", "duplicate node name");
  }
  {
    auto scope = v.path().Field("daemon_set");
    v.DaemonSet(request.daemon_set(),
                request.options().toleration_comparison_operators());
  }
  return InvalidArgument(violations);
}

}  // namespace dsd::convert
