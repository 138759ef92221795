package scenarios

import (
	"fmt"
	"unicode/utf8"

	"github.com/goccy/go-yaml/token"
)

// Limits on a scenario file, checked before it is parsed. The YAML parser's
// time and memory grow with the square of the nesting depth, of the keys in
// one mapping and of the documents in a file, so a file beyond them is
// refused at once, at the place it crosses the limit. Real scenarios are
// far inside: a few kilobytes, nested five levels, at most 11 keys in a
// mapping, one document.
const (
	// MaxFileSize is the most bytes a scenario file may hold: room for
	// MaxPPVs listed PPVs.
	MaxFileSize = 1 << 20
	// MaxNesting is the most lists and mappings a scenario may nest inside
	// one another.
	MaxNesting = 64
	// MaxMappingKeys is the most keys one mapping may have.
	MaxMappingKeys = 100
	// MaxDocuments is the most YAML documents ("---") a file may start; a
	// scenario is one.
	MaxDocuments = 16
)

// fileLimits are the limits a parse checks; parse uses defaultLimits (the
// fuzz test smaller ones, to reach them with small inputs).
type fileLimits struct{ size, nesting, keys, docs int }

var defaultLimits = fileLimits{size: MaxFileSize, nesting: MaxNesting, keys: MaxMappingKeys, docs: MaxDocuments}

// limitError is where a file first crosses a limit, and which.
type limitError struct {
	off int    // byte offset in the file
	msg string // what is wrong
}

func (l fileLimits) depthMsg() string {
	return fmt.Sprintf("nested more than %d levels deep (lists and mappings inside one another), the limit for a scenario, which needs about 5: is a closing ']' or '}' missing?", l.nesting)
}

func (l fileLimits) keysMsg() string {
	return fmt.Sprintf("more than %d keys in one mapping, the limit for a scenario (its mappings have at most 11 fields): is a line indented wrongly?", l.keys)
}

func (l fileLimits) docsMsg() string {
	return fmt.Sprintf("more than %d YAML documents (---), the limit; want one scenario per file", l.docs)
}

func (l fileLimits) sizeMsg() string {
	return fmt.Sprintf("file larger than %s (%s bytes), the limit for a scenario file, which it passes here; is this a scenario?", humanBytes(l.size), commas(l.size))
}

// humanBytes formats a power-of-two size such as 1 MiB.
func humanBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkSize reports a file larger than the size limit at its first byte
// beyond it.
func (l fileLimits) checkSize(data []byte) *limitError {
	if len(data) > l.size {
		return &limitError{off: l.size, msg: l.sizeMsg()}
	}
	return nil
}

// position returns the 1-based line and column (in characters) of byte
// offset off in data.
func position(data []byte, off int) pos {
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := range off {
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	return pos{line, utf8.RuneCount(data[start:off]) + 1}
}

// blockLevel is an open block collection: the column of its entries and
// how many keys it has had.
type blockLevel struct{ col, keys int }

// levels is the stack of open block collections that both scans keep.
type levels []blockLevel

// enter makes col the current level: it closes the deeper levels and opens
// one at col when col is deeper than the current level. It returns how
// many levels are open.
func (l *levels) enter(col int) int {
	s := *l
	for len(s) > 0 && s[len(s)-1].col > col {
		s = s[:len(s)-1]
	}
	if len(s) == 0 || s[len(s)-1].col < col {
		s = append(s, blockLevel{col: col})
	}
	*l = s
	return len(s)
}

// key counts a key written at column col, and returns how many keys the
// mapping it belongs to has (0 when col is not the current level's).
func (l levels) key(col int) int {
	if len(l) == 0 || l[len(l)-1].col != col {
		return 0
	}
	l[len(l)-1].keys++
	return l[len(l)-1].keys
}

// checkTokens checks the tokens of the lexer, before the parser builds a
// tree from them, against the limits on nesting, keys and documents. It
// follows the lexer exactly, so nothing the fast raw scan (scanRaw) missed
// reaches the parser; it returns the token where a limit is crossed.
func (l fileLimits) checkTokens(tokens token.Tokens) (*token.Token, string) {
	var block levels
	var flow []int // keys of each open flow collection; -1 for a list
	prevLine, docs := 0, 0
	for _, tk := range tokens {
		if tk == nil || tk.Position == nil || tk.Type == token.CommentType {
			continue
		}
		line, col := tk.Position.Line, tk.Position.Column
		first := line != prevLine
		prevLine = line
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			if len(block)+len(flow)+1 > l.nesting {
				return tk, l.depthMsg()
			}
			keys := -1
			if tk.Type == token.MappingStartType {
				keys = 0
			}
			flow = append(flow, keys)
			continue
		case token.SequenceEndType, token.MappingEndType:
			if len(flow) > 0 {
				flow = flow[:len(flow)-1]
			}
			continue
		case token.DocumentHeaderType:
			block = block[:0]
			docs++
			if docs > l.docs {
				return tk, l.docsMsg()
			}
			continue
		}
		if len(flow) > 0 {
			if tk.Type == token.MappingValueType && flow[len(flow)-1] >= 0 {
				flow[len(flow)-1]++
				if flow[len(flow)-1] > l.keys {
					if key := prevToken(tk); key != nil && key.Position != nil {
						tk = key
					}
					return tk, l.keysMsg()
				}
			}
			continue
		}
		if msg := l.blockToken(&block, tk, first, col); msg != "" {
			return tk, msg
		}
	}
	return nil, ""
}

// blockToken follows the block structure at token tk (at column col, the
// first of its line when first), returning what limit it crosses, if any.
func (l fileLimits) blockToken(block *levels, tk *token.Token, first bool, col int) string {
	if first && !isBlockContent(tk) && block.enter(col) > l.nesting {
		return l.depthMsg()
	}
	switch tk.Type {
	case token.SequenceEntryType, token.MappingKeyType:
		// An explicit key ("? k") is a key of the current mapping.
		if tk.Type == token.MappingKeyType && block.key(col) > l.keys {
			return l.keysMsg()
		}
		// "- - x", "- key: v": the node after the indicator is a level.
		if next := nextToken(tk); next != nil && next.Position != nil && next.Position.Line == tk.Position.Line {
			if block.enter(next.Position.Column) > l.nesting {
				return l.depthMsg()
			}
		}
	case token.MappingValueType:
		// The key starts at its anchor or tag, if any.
		key := prevToken(tk)
		for key != nil && key.Position != nil {
			p := prevToken(key)
			if p == nil || p.Position == nil || p.Position.Line != key.Position.Line || (p.Type != token.AnchorType && p.Type != token.TagType) {
				break
			}
			key = p
		}
		if key != nil && key.Position != nil && block.key(key.Position.Column) > l.keys {
			return l.keysMsg()
		}
	}
	return ""
}

// isBlockContent reports whether tk is the text of a literal or folded
// block scalar, whose indentation is not structure.
func isBlockContent(tk *token.Token) bool {
	return tk.Prev != nil && (tk.Prev.Type == token.LiteralType || tk.Prev.Type == token.FoldedType)
}

// prevToken returns the token before tk, skipping comments.
func prevToken(tk *token.Token) *token.Token {
	p := tk.Prev
	for p != nil && p.Type == token.CommentType {
		p = p.Prev
	}
	return p
}

// nextToken returns the token after tk, skipping comments.
func nextToken(tk *token.Token) *token.Token {
	n := tk.Next
	for n != nil && n.Type == token.CommentType {
		n = n.Next
	}
	return n
}
