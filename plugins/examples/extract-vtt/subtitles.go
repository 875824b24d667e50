//go:build wasip1

package main

import (
	"slices"
	"strconv"
	"strings"
)

// pauseMS is the silence between two cues that starts a new paragraph.
const pauseMS = 2000

// cue is one subtitle: when it is on screen and its lines of text, markup and all.
type cue struct {
	startMS, endMS int
	lines          []string
}

// subtitles is a parsed .vtt or .srt file.
type subtitles struct {
	cues     []cue
	webVTT   bool   // the file starts with a WEBVTT header
	language string // from a "Language: en" header line, as YouTube writes
}

// parseSubtitles reads WebVTT and SRT alike. Both are blocks separated by blank lines, and
// a cue block is an optional identifier (an SRT cue number), a timing line with "-->",
// then the text. Any block without a timing line — the WEBVTT header, NOTE comments,
// STYLE and REGION definitions — is skipped.
func parseSubtitles(content string) subtitles {
	content = strings.TrimPrefix(content, "\uFEFF")
	content = strings.ReplaceAll(content, "\r\n", "\n")
	content = strings.ReplaceAll(content, "\r", "\n")

	var sub subtitles
	lines := strings.Split(content, "\n")
	if strings.HasPrefix(lines[0], "WEBVTT") {
		sub.webVTT = true
		for _, line := range lines[1:] {
			if strings.TrimSpace(line) == "" {
				break // the header ends at the first blank line
			}
			if key, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(key), "language") {
				sub.language = strings.TrimSpace(value)
			}
		}
	}

	inCue := false // are we reading a cue's text?
	for _, line := range lines {
		// In WebVTT only an empty line ends a cue: YouTube's captions hold lines of a
		// single space. SRT files are less tidy, and a line of spaces ends a cue there.
		if line == "" || (!sub.webVTT && strings.TrimSpace(line) == "") {
			inCue = false
			continue
		}
		line = strings.TrimSpace(line)
		if start, end, ok := parseTiming(line); ok {
			// Some SRT files have no blank line between cues, so the next cue's number
			// lands at the end of this one's text.
			if inCue {
				last := &sub.cues[len(sub.cues)-1]
				if n := len(last.lines); n > 0 && isNumber(last.lines[n-1]) {
					last.lines = last.lines[:n-1]
				}
			}
			sub.cues = append(sub.cues, cue{startMS: start, endMS: end})
			inCue = true
			continue
		}
		if inCue {
			last := &sub.cues[len(sub.cues)-1]
			last.lines = append(last.lines, line)
		}
	}
	return sub
}

// parseTiming reads "00:01:02.500 --> 00:01:04.000 align:start" (WebVTT) or
// "00:01:02,500 --> 00:01:04,000" (SRT). Cue settings after the end time are ignored.
func parseTiming(line string) (startMS, endMS int, ok bool) {
	left, right, found := strings.Cut(line, "-->")
	if !found {
		return 0, 0, false
	}
	fields := strings.Fields(right)
	if len(fields) == 0 {
		return 0, 0, false
	}
	start, ok1 := parseTimestamp(strings.TrimSpace(left))
	end, ok2 := parseTimestamp(fields[0])
	return start, end, ok1 && ok2
}

// parseTimestamp reads "hh:mm:ss.ttt", "mm:ss.ttt" or SRT's "hh:mm:ss,ttt" as
// milliseconds.
func parseTimestamp(s string) (int, bool) {
	s = strings.Replace(s, ",", ".", 1)
	clock, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(clock, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	ms := 0
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, false
		}
		ms = ms*60 + n
	}
	ms *= 1000
	if frac != "" {
		// ".5" is 500 ms, ".05" is 50 ms: pad to three digits.
		frac = (frac + "00")[:3]
		n, err := strconv.Atoi(frac)
		if err != nil {
			return 0, false
		}
		ms += n
	}
	return ms, true
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// transcript merges the cues into paragraphs, one speaker each, and lists the speakers
// in the order they first speak.
func transcript(cues []cue) (paragraphs, speakers []string) {
	var (
		para    []string // lines of the paragraph being built
		speaker string   // who speaks in it
		recent  []string // the last two lines kept, to spot rolling-caption repeats
		prevEnd = -1     // when the previous cue ended
	)
	flush := func() {
		if len(para) == 0 {
			return
		}
		text := strings.Join(para, " ")
		if speaker != "" {
			text = speaker + ": " + text
		}
		paragraphs = append(paragraphs, text)
		para = nil
	}
	for _, c := range cues {
		if prevEnd >= 0 && c.startMS-prevEnd > pauseMS {
			flush()
		}
		prevEnd = c.endMS
		for _, raw := range c.lines {
			who, text := cleanLine(raw)
			// A dash opens a new turn in dialogue subtitles: "- Ready?" / "- Yes."
			turn := false
			if rest, ok := strings.CutPrefix(text, "- "); ok {
				text, turn = rest, true
			}
			// A cue without a voice tag goes on with whoever was speaking; a dash means
			// someone else, whose name we do not know.
			if (who != "" && who != speaker) || turn {
				flush()
				speaker = who
				if who != "" && !slices.Contains(speakers, who) {
					speakers = append(speakers, who)
				}
			}
			// Rolling captions show each line twice, at the bottom and then scrolled up.
			if text == "" || slices.Contains(recent, text) {
				continue
			}
			// They also grow a line word by word ("so today", then "so today we"): keep
			// only the longest version.
			if n := len(para); n > 0 && strings.HasPrefix(text, para[n-1]+" ") {
				para[n-1] = text
			} else {
				para = append(para, text)
			}
			recent = append(recent, text)
			if len(recent) > 2 {
				recent = recent[1:]
			}
		}
	}
	flush()
	return paragraphs, speakers
}

// cleanLine strips a cue line's markup and returns the speaker its voice tag names, if
// any: "<v.loud Alice>Hello <i>there</i>" gives "Alice" and "Hello there".
func cleanLine(line string) (speaker, text string) {
	var b strings.Builder
	for i := 0; i < len(line); {
		switch line[i] {
		case '<':
			end := strings.IndexByte(line[i:], '>')
			if end < 0 {
				b.WriteString(line[i:]) // a lone "<" is text
				i = len(line)
				continue
			}
			tag := line[i+1 : i+end]
			if name, ok := voiceName(tag); ok && speaker == "" {
				speaker = name
			}
			// Every other tag goes: <i>, <b>, <c.yellow>, <00:00:01.500>, <font color=…>.
			i += end + 1
		case '{':
			// SSA override codes that some SRT files carry, such as {\an8}.
			if end := strings.IndexByte(line[i:], '}'); end > 0 && strings.HasPrefix(line[i:], `{\`) {
				i += end + 1
				continue
			}
			b.WriteByte(line[i])
			i++
		case '&':
			if r, n := entity(line[i:]); n > 0 {
				b.WriteString(r)
				i += n
				continue
			}
			b.WriteByte('&')
			i++
		default:
			b.WriteByte(line[i])
			i++
		}
	}
	return speaker, strings.Join(strings.Fields(b.String()), " ")
}

// voiceName reads the speaker of a WebVTT voice tag: "v Alice" or "v.first.loud Alice".
func voiceName(tag string) (string, bool) {
	if tag != "v" && !strings.HasPrefix(tag, "v ") && !strings.HasPrefix(tag, "v.") {
		return "", false
	}
	_, name, _ := strings.Cut(tag, " ")
	name = strings.TrimSpace(name)
	return name, name != ""
}

// entities are the character references subtitles use most; WebVTT allows any HTML one,
// but the full table would cost more Wasm than it is worth here.
var entities = map[string]string{
	"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": `"`, "&apos;": "'", "&#39;": "'",
	"&nbsp;": " ", "&lrm;": "", "&rlm;": "", "&mdash;": "—", "&ndash;": "–", "&hellip;": "…",
}

func entity(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 0 || end > 8 {
		return "", 0
	}
	if r, ok := entities[s[:end+1]]; ok {
		return r, end + 1
	}
	return "", 0
}
