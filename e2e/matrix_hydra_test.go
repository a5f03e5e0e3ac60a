package e2e

import (
	"testing"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

// hydraCases are the flows of Ory Hydra, on one start.
var hydraCases = []matrixCase{
	{cell: cell{name: "code_pkce_public", client: harness.PublicClient}, tokens: []string{"id_token", "access_token"}},
	{cell: cell{name: "code_basic", client: harness.BasicClient, args: basic}, tokens: []string{"id_token"}},
}

func TestMatrixHydra(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(hydraCases))
	hydra := harness.StartHydra(t, harness.HydraOptions{RedirectURIs: uris})
	runCases(t, hydra, hydraCases, ps)
}
