package mobilgroup

import (
	"context"

	"github.com/calletl/calletl/pipeline"
)

var _ pipeline.ItemPlanner = (*Source)(nil)

// PlanItems returns the broadcasts Items would list: Items asks Mobilgroup
// nothing (the ids come from the config, the ids file and pending), so the
// plan is complete.
func (s *Source) PlanItems(pending []string) ([]string, bool, error) {
	keys, err := s.Items(context.Background(), pending)
	return keys, false, err
}
