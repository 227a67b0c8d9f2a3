package votbox

import (
	"slices"

	"github.com/calletl/calletl/pipeline"
)

var _ pipeline.ItemPlanner = (*Source)(nil)

// PlanItems returns, without a request, the tasks Items would list but the
// active ones (the vendor's to say): the configured task ids and pending.
// partial is always true.
func (s *Source) PlanItems(pending []string) ([]string, bool, error) {
	keys := slices.Clone(s.c.cfg.TaskIDs)
	for _, k := range pending {
		if ValidTaskID(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), true, nil
}
