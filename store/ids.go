package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

// ID prefixes say what an identifier names, as in the API contract.
const (
	PrefixItem         = "item_"
	PrefixConversation = "conv_"
	PrefixMessage      = "msg_"
	PrefixRun          = "run_"
	PrefixDigest       = "dig_"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix followed by 20 characters: 6 bytes of millisecond time (so IDs made
// later sort later) and 6 random bytes.
func NewID(prefix string, now time.Time) string {
	var b [12]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:])
	return prefix + idEncoding.EncodeToString(b[:])
}
