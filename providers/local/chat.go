package local

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/cortexhq/cortex/providers"
)

// ChatModelName names the extractive answer generator in ChatResponse.Model.
const ChatModelName = "cortex-local-extractive-v1"

// NoAnswer is the local model's answer when the documents hold nothing relevant to the
// question. An extractive model cannot say anything beyond its sources, so it says so.
const NoAnswer = "I couldn't find anything about that in your saved items."

const (
	maxAnswerSentences = 4
	// minRelevance is the score below which a sentence is not an answer at all. Beyond
	// the best sentence, others are kept when they score within keepRatio of it, or
	// within sameSourceRatio when they come from the same document and so continue its
	// account rather than change the subject.
	minRelevance    = 0.18
	keepRatio       = 0.6
	sameSourceRatio = 0.4
	// nearDuplicate is the cosine above which two sentences say the same thing.
	nearDuplicate = 0.85
	// summarySentences is how long a summary of a pasted text is.
	summarySentences = 3
)

// Chat answers extractively. With documents, it takes the last user message as the
// question, scores every sentence of the documents by relevance to it (cosine of the
// local embeddings plus the IDF-weighted share of the question's content words the
// sentence contains) and answers with the best sentence and up to three more that are
// nearly as relevant or continue the same document, skipping near-duplicates; each is
// followed by the citation [n] of its document. With nothing relevant it answers
// NoAnswer. A question with no topic of its own ("what do these say?") gets the most
// central sentence of each of the first documents. Without documents it summarises the
// text of the user message when that is what was asked for (or when the message is a
// long pasted text), and otherwise answers NoAnswer.
//
// The answer is streamed word by word. MaxTokens, when set, caps the number of streamed
// pieces (about one word each); Temperature is ignored because the output is
// deterministic. The token counts reported are word counts.
func (c *Client) Chat(ctx context.Context, req providers.ChatRequest, onToken providers.TokenFunc) (providers.ChatResponse, error) {
	if err := ctx.Err(); err != nil {
		return providers.ChatResponse{}, fmt.Errorf("local chat: %w", err)
	}
	question := lastMessage(req.Messages, providers.RoleUser)

	var answer string
	if len(req.Documents) > 0 {
		answer = c.answerFromDocuments(question, req.Documents)
	} else {
		answer = summarizeRequest(req.Messages, question)
	}
	if answer == "" {
		answer = NoAnswer
	}

	pieces := splitPieces(answer)
	if req.MaxTokens > 0 && len(pieces) > req.MaxTokens {
		pieces = pieces[:req.MaxTokens]
	}
	var b strings.Builder
	for _, p := range pieces {
		if err := ctx.Err(); err != nil {
			return providers.ChatResponse{}, fmt.Errorf("local chat: %w", err)
		}
		if onToken != nil {
			if err := onToken(p); err != nil {
				return providers.ChatResponse{}, err
			}
		}
		b.WriteString(p)
	}

	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	for _, d := range req.Documents {
		prompt += len(strings.Fields(d.Title)) + len(strings.Fields(d.Text))
	}
	return providers.ChatResponse{
		Content:          b.String(),
		Model:            ChatModelName,
		PromptTokens:     prompt,
		CompletionTokens: len(pieces),
	}, nil
}

func lastMessage(msgs []providers.Message, role string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == role {
			return msgs[i].Content
		}
	}
	return ""
}

// splitPieces cuts an answer into streaming pieces: each word with the space before it,
// so that concatenating the pieces gives the answer back exactly.
func splitPieces(s string) []string {
	var pieces []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' && s[i-1] != ' ' {
			pieces = append(pieces, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		pieces = append(pieces, s[start:])
	}
	return pieces
}

// candidate is one sentence of one document considered for the answer.
type candidate struct {
	doc   int    // 0-based document index
	text  string // cleaned sentence
	terms map[string]struct{}
	vec   []float32
	score float64
}

// isQuestionNoise reports whether stem belongs to a word that frames a request rather
// than says what it is about ("tell me what my notes say about X"); matching such words
// is no evidence of relevance.
func isQuestionNoise(stem string) bool {
	for _, w := range [...]string{
		"tell", "explain", "describe", "know", "say", "said", "find", "show", "give", "list",
		"summarize", "summarise", "summary", "note", "saved", "item", "anything", "something",
		"thing", "remind", "mention", "wrote", "written", "read", "look", "want", "need",
		"think", "help", "question", "answer", "document", "doc", "source", "information",
		"info", "detail", "recall", "remember",
	} {
		if stem == w[:stemLen([]byte(w))] {
			return true
		}
	}
	return false
}

// answerFromDocuments composes a cited extractive answer, or "" when nothing in docs is
// relevant to question.
func (c *Client) answerFromDocuments(question string, docs []providers.Document) string {
	var tok tokenizer
	qTerms := map[string]struct{}{}
	for _, t := range contentStems(&tok, question, nil) {
		if !isQuestionNoise(t) {
			qTerms[t] = struct{}{}
		}
	}
	if len(qTerms) == 0 {
		// "What do these say?" asks for the gist of the documents themselves.
		return summarizeDocuments(docs)
	}

	var cands []candidate
	for i, d := range docs {
		for _, sp := range SplitSentences(d.Text) {
			text := cleanSentence(sp.Text(d.Text))
			terms := contentStems(&tok, text, nil)
			if len(terms) < 2 {
				continue
			}
			cands = append(cands, candidate{doc: i, text: text, terms: distinct(terms)})
		}
	}
	if len(cands) == 0 {
		return ""
	}

	// Question words that appear in few sentences tell them apart; words in every
	// sentence (the topic of all the documents) tell little.
	idf := make(map[string]float64, len(qTerms))
	total := 0.0
	for t := range qTerms {
		df := 0
		for _, cd := range cands {
			if _, ok := cd.terms[t]; ok {
				df++
			}
		}
		idf[t] = math.Log(1 + float64(len(cands))/float64(1+df))
		total += idf[t]
	}

	s := c.getScratch()
	defer c.scratch.Put(s)
	qVec := make([]float32, Dimensions)
	s.embed(question, qVec)
	vecs := make([]float32, len(cands)*Dimensions)
	for i := range cands {
		cd := &cands[i]
		cd.vec = vecs[i*Dimensions : (i+1)*Dimensions]
		s.embed(cd.text, cd.vec)
		matched := 0.0
		for t := range qTerms {
			if _, ok := cd.terms[t]; ok {
				matched += idf[t]
			}
		}
		overlap := 0.0
		if total > 0 {
			overlap = matched / total
		}
		cos := dot(qVec, cd.vec)
		if overlap == 0 && cos < 0.35 {
			// Without a shared word only a strong n-gram resemblance counts.
			continue
		}
		cd.score = 0.5*cos + 0.5*overlap
		if strings.HasSuffix(cd.text, "?") {
			// A question in the sources raises the topic but rarely answers it.
			cd.score *= 0.8
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	if cands[0].score < minRelevance {
		return ""
	}

	best := cands[0].score
	var picked []candidate
	for _, cd := range cands {
		if len(picked) == maxAnswerSentences || cd.score < minRelevance {
			break
		}
		if len(picked) > 0 && cd.score < keepRatio*best && (cd.doc != cands[0].doc || cd.score < sameSourceRatio*best) {
			continue
		}
		dup := false
		for _, p := range picked {
			if dot(p.vec, cd.vec) > nearDuplicate || p.text == cd.text {
				dup = true
				break
			}
		}
		if !dup {
			picked = append(picked, cd)
		}
	}
	parts := make([]string, len(picked))
	for i, p := range picked {
		parts[i] = cite(p.text, p.doc+1)
	}
	return strings.Join(parts, " ")
}

// summarizeDocuments answers a question with no topic of its own by citing the most
// central sentence of each of the first few documents.
func summarizeDocuments(docs []providers.Document) string {
	var parts []string
	for i, d := range docs {
		if len(parts) == maxAnswerSentences {
			break
		}
		if s := cleanSentence(Summarize(d.Text, 1)); s != "" {
			parts = append(parts, cite(s, i+1))
		}
	}
	return strings.Join(parts, " ")
}

// cite attaches the citation [n] to a sentence, inside its final full stop so the
// answer reads "… as stated [2]." rather than "… as stated. [2]".
func cite(sentence string, n int) string {
	ref := "[" + strconv.Itoa(n) + "]"
	if body, ok := strings.CutSuffix(sentence, "."); ok && !strings.HasSuffix(body, ".") {
		return body + " " + ref + "."
	}
	return sentence + " " + ref
}

// cleanSentence collapses white space and drops list and heading markers, which are
// layout, not content, and would read oddly in the middle of an answer.
func cleanSentence(s string) string {
	s = collapseSpace(s)
	for {
		trimmed := strings.TrimLeft(s, "#>•*-+ ")
		if n := digitsPrefix(trimmed); n > 0 && n < len(trimmed)-1 && (trimmed[n] == '.' || trimmed[n] == ')') && trimmed[n+1] == ' ' {
			trimmed = trimmed[n+2:]
		}
		if trimmed == s {
			return s
		}
		s = trimmed
	}
}

func digitsPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// hasSummaryCue reports whether s asks for a summary of text it carries.
func hasSummaryCue(s string) bool {
	s = strings.ToLower(s)
	for _, cue := range [...]string{"summar", "tl;dr", "tldr", "key points", "main points", "gist", "condense", "shorten", "recap", "overview"} {
		if strings.Contains(s, cue) {
			return true
		}
	}
	return false
}

// summarizeRequest handles a request without documents: a request to summarise the
// text it contains ("Summarize this: …", or a system prompt asking for a summary of the
// user's text), or a long pasted text, is answered with a summary. Anything else gets
// "" because the local model has no knowledge of its own.
func summarizeRequest(msgs []providers.Message, question string) string {
	text := strings.TrimSpace(question)
	if text == "" {
		return ""
	}
	for _, m := range msgs {
		if m.Role == providers.RoleSystem && hasSummaryCue(m.Content) {
			return Summarize(text, summarySentences)
		}
	}
	// The instruction is the first line or whatever precedes the first colon near the start.
	head, body := text, ""
	if i := strings.IndexAny(text, ":\n"); i >= 0 && i < 200 {
		head, body = text[:i], strings.TrimSpace(text[i+1:])
	}
	if body != "" && hasSummaryCue(head) {
		return Summarize(body, summarySentences)
	}
	if len(SplitSentences(text)) >= 3 && wordCount(text) >= 40 {
		return Summarize(text, summarySentences)
	}
	return ""
}

func wordCount(s string) int {
	n := 0
	inWord := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			inWord = false
		} else if !inWord {
			inWord = true
			n++
		}
	}
	return n
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}
