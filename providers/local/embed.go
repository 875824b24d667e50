package local

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"

	"github.com/cortexhq/cortex/providers"
)

// Identity of the local embedding space. Changing anything about how features are
// extracted or weighted changes the vectors, so it must come with a new Model name:
// stored vectors are only comparable with vectors of an equal identity.
const (
	ProviderName   = "local"
	EmbedModelName = "cortex-local-hash-v1"
	Dimensions     = 384
)

const (
	// wordWeight and gramWeight balance whole-word features against character n-grams.
	// Word features decide topical similarity; the n-grams of a word share its weight
	// between them (see gramWeight's use) and only make morphological variants and
	// typos ("runner", "running", "runing") land near each other.
	wordWeight = 1.0
	gramWeight = 0.6
	// Words longer than this (in runes) get no n-grams: they are identifiers, URLs or
	// compound strings whose n-grams would swamp the rest of the text.
	maxGramRunes = 24
	minGram      = 3
	maxGram      = 5
)

// Client is the offline provider: a deterministic hashed-feature embedder and an
// extractive chat model. It needs no network and no model files, so it is always
// available. The zero value is not usable; call New. A Client is safe for concurrent use.
type Client struct {
	scratch sync.Pool
}

var (
	_ providers.Embedder  = (*Client)(nil)
	_ providers.ChatModel = (*Client)(nil)
)

// New returns a local provider.
func New() *Client {
	c := &Client{}
	c.scratch.New = func() any {
		return &scratch{index: make(map[uint64]int32, 256)}
	}
	return c
}

// Identity describes the local embedding space. Documents and queries are embedded the
// same way, so there are no prefixes.
func (c *Client) Identity() providers.EmbeddingIdentity {
	return providers.EmbeddingIdentity{Provider: ProviderName, Model: EmbedModelName, Dimensions: Dimensions}
}

// Embed returns one vector of Dimensions floats per text. Vectors are L2-normalised,
// except that a text with no indexable words (empty, only punctuation, emoji or stop
// words) gets the zero vector: it has no direction to normalise, and a zero vector scores
// 0 against everything, which is what such a text deserves. No vector contains NaN.
// purpose is ignored: the features are symmetric.
func (c *Client) Embed(ctx context.Context, texts []string, _ providers.EmbedPurpose) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local embed: %w", err)
	}
	// One backing array for the batch keeps allocation per call constant.
	flat := make([]float32, len(texts)*Dimensions)
	out := make([][]float32, len(texts))
	s := c.getScratch()
	defer c.scratch.Put(s)
	for i, t := range texts {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("local embed: %w", err)
			}
		}
		v := flat[i*Dimensions : (i+1)*Dimensions : (i+1)*Dimensions]
		s.embed(t, v)
		out[i] = v
	}
	return out, nil
}

func (c *Client) getScratch() *scratch {
	if s, ok := c.scratch.Get().(*scratch); ok {
		return s
	}
	// Only a Client built without New gets here.
	return &scratch{index: make(map[uint64]int32, 256)}
}

// scratch holds the buffers one embedding needs, reused across texts so that the steady
// state allocates nothing.
type scratch struct {
	tok   tokenizer
	index map[uint64]int32 // word hash → position in words
	words []wordEntry
	arena []byte  // the bytes of distinct words, back to back
	runes []int32 // rune start offsets within the current word, plus its length
}

type wordEntry struct {
	off, n, tf int32
}

// embed writes the vector of text into v (len Dimensions), overwriting it.
//
// Term frequency is counted per distinct word and damped as 1+ln(tf), so a word repeated
// ten times weighs about three times as much as one said once; each distinct word then
// contributes its stem and its character n-grams with that weight.
func (s *scratch) embed(text string, v []float32) {
	clear(v)
	if len(s.words) > 4096 {
		// Clearing a map costs its capacity, not its length: after one huge text, start
		// afresh rather than pay for it on every chunk that follows.
		s.index = make(map[uint64]int32, 256)
	} else {
		clear(s.index)
	}
	s.words = s.words[:0]
	s.arena = s.arena[:0]
	s.tok.reset(text)
	for {
		tok, _, _, ok := s.tok.next()
		if !ok {
			break
		}
		if isStopWord(tok) {
			continue
		}
		h := hashBytes(seedWord, tok)
		if i, ok := s.index[h]; ok {
			s.words[i].tf++
			continue
		}
		s.index[h] = int32(len(s.words))
		s.words = append(s.words, wordEntry{off: int32(len(s.arena)), n: int32(len(tok)), tf: 1})
		s.arena = append(s.arena, tok...)
	}
	if len(s.words) == 0 {
		return
	}
	for _, w := range s.words {
		word := s.arena[w.off : w.off+w.n]
		weight := 1 + math.Log(float64(w.tf))
		addFeature(v, hashBytes(seedStem, word[:stemLen(word)]), weight*wordWeight)
		if isDigits(word) {
			continue
		}
		s.addGrams(v, word, weight)
	}
	providers.NormalizeL2(v)
}

// addGrams adds the character n-grams (minGram..maxGram runes) of word, bracketed by
// boundary markers ("<run", "unn>"), so that prefixes and suffixes are distinguished from
// the middle of a word. The n-grams share weight·gramWeight in the L2 sense, so a long
// word does not outweigh a short one merely by having more of them.
func (s *scratch) addGrams(v []float32, word []byte, weight float64) {
	s.runes = s.runes[:0]
	for i := 0; i < len(word); {
		s.runes = append(s.runes, int32(i))
		if word[i] < 0x80 {
			i++
			continue
		}
		_, size := utf8.DecodeRune(word[i:])
		i += size
	}
	nRunes := len(s.runes)
	if nRunes > maxGramRunes {
		return
	}
	s.runes = append(s.runes, int32(len(word)))
	symbols := nRunes + 2 // with the two boundary markers
	grams := 0
	for n := minGram; n <= maxGram; n++ {
		if symbols >= n {
			grams += symbols - n + 1
		}
	}
	if grams == 0 {
		return
	}
	gw := weight * gramWeight / math.Sqrt(float64(grams))
	// The n-grams starting at one symbol are prefixes of each other, so one FNV pass per
	// start position yields all of them; the length is mixed in when each is emitted.
	for start := 0; start+minGram <= symbols; start++ {
		h := uint64(seedGram)
		for sym := start; sym < start+maxGram && sym < symbols; sym++ {
			switch sym {
			case 0:
				h = fnvByte(h, '<')
			case symbols - 1:
				h = fnvByte(h, '>')
			default:
				for _, b := range word[s.runes[sym-1]:s.runes[sym]] {
					h = fnvByte(h, b)
				}
			}
			if n := sym - start + 1; n >= minGram {
				addFeature(v, mix(h^uint64(n)<<56), gw)
			}
		}
	}
}

// Seeds separate the feature families, so the stem "run" and the n-gram "run" are
// different features.
const (
	seedWord uint64 = 0x9e3779b97f4a7c15 // word identity for counting, never a feature
	seedStem uint64 = 0xc2b2ae3d27d4eb4f
	seedGram uint64 = 0x165667b19e3779f9
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 {
	return (h ^ uint64(b)) * fnvPrime
}

// hashBytes is FNV-1a over b, started from fnvOffset^seed and finished with mix.
func hashBytes(seed uint64, b []byte) uint64 {
	h := uint64(fnvOffset) ^ seed
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return mix(h)
}

// mix is the SplitMix64 finaliser. FNV-1a's low bits are weak for short inputs; the
// bucket comes from the low bits and the sign from the top bit, so both must be well mixed.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// addFeature adds w to the bucket of feature h with a sign taken from another part of
// the hash, so that colliding features cancel on average instead of piling up.
func addFeature(v []float32, h uint64, w float64) {
	i := uint32(h) % Dimensions
	if h>>63 != 0 {
		w = -w
	}
	v[i] += float32(w)
}
