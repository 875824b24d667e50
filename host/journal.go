package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// journalled are the host functions whose effects a durable node must not repeat when it
// runs again after a crash: writes, downloads, model calls (slow, and billed by remote
// providers) and calls into other plugins. Reads are cheap to repeat and are not recorded;
// neither are extractions, whose answer is a whole document.
var journalled = map[string]bool{
	abi.FnItemsUpdate: true,
	abi.FnItemsFetch:  true,
	abi.FnChunksWrite: true,
	abi.FnLLMChat:     true,
	abi.FnInvoke:      true,
	abi.FnKVSet:       true,
	abi.FnKVDelete:    true,
}

// maxJournalledResult keeps the journal small: a larger answer is not recorded, so that
// call is made again on a replay, as it would be without a journal.
const maxJournalledResult = 256 << 10

// EffectJournal is what the journal needs from the store.
type EffectJournal interface {
	Effect(ctx context.Context, key store.EffectKey) (store.Effect, bool, error)
	RecordEffect(ctx context.Context, key store.EffectKey, e store.Effect) error
}

// journalKey returns the idempotency key of the next side-effecting call ci makes, or
// false when the call is not journalled: not a durable run's node, not the node's own
// call (a plugin it invokes is covered by the invoke), or a function with no effect.
func (ci *callInfo) journalKey(function string) (store.EffectKey, bool) {
	if ci == nil || !ci.run.Durable || ci.depth != 1 || !journalled[function] {
		return store.EffectKey{}, false
	}
	ci.effects++
	return store.EffectKey{RunID: ci.run.RunID, Node: ci.run.Node, Attempt: ci.run.Attempt, Seq: ci.effects}, true
}

func requestHash(function string, req []byte) string {
	h := sha256.New()
	h.Write([]byte(function))
	h.Write([]byte{0})
	h.Write(req)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// replay returns the answer recorded for this call by an earlier run of the same node
// attempt, if it asked the same thing. Once a call differs, the attempt has taken another
// path and nothing after it is replayed. A missing one ends the replay too: the earlier run
// stopped there (or that call failed, and redoing what follows is what happens without a
// journal), and a first run then pays one lookup per node attempt, not one per call.
func (h *Host) replay(ctx context.Context, ci *callInfo, key store.EffectKey, function string, req []byte) ([]byte, bool) {
	j, ok := h.services.Store.(EffectJournal)
	if !ok || ci.replayOver {
		return nil, false
	}
	e, found, err := j.Effect(ctx, key)
	if err != nil {
		h.log.Warn("read effect journal", "run", key.RunID, "node", key.Node, "err", err)
		return nil, false
	}
	if !found || e.Function != function || e.RequestHash != requestHash(function, req) {
		ci.replayOver = true
		return nil, false
	}
	return e.Result, true
}

// record journals a successful answer; failures are not recorded, so a replay tries again.
func (h *Host) record(ctx context.Context, key store.EffectKey, function string, req, result []byte) {
	j, ok := h.services.Store.(EffectJournal)
	if !ok || len(result) > maxJournalledResult {
		return
	}
	e := store.Effect{Function: function, RequestHash: requestHash(function, req), Result: result}
	if err := j.RecordEffect(ctx, key, e); err != nil {
		h.log.Warn("record effect", "run", key.RunID, "node", key.Node, "function", function, "err", err)
	}
}
