package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// Limits of fetching a saved URL. Unlike a plugin's http capability this fetches what the
// user chose to save, so private and local addresses are allowed (an intranet wiki, a
// local docs server).
const (
	fetchTimeout   = 30 * time.Second
	fetchMaxBytes  = 20 << 20
	fetchRedirects = 10
	fetchUserAgent = "Mozilla/5.0 (compatible; Cortex/1.0; +https://github.com/cortexhq/cortex)"
)

var errFetchDisabled = errors.New("fetching URLs is turned off (setting fetch_urls)")

func (h *Host) pageClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= fetchRedirects {
				return fmt.Errorf("stopped after %d redirects", fetchRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s: URL", req.URL.Scheme)
			}
			return nil
		},
	}
}

// FetchPage downloads url as text: the body converted to UTF-8 from its declared or
// sniffed charset, the media type, the final URL after redirects.
func (h *Host) FetchPage(ctx context.Context, rawURL string) (text string, out abi.ItemsFetchOutput, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", out, fmt.Errorf("%w: %v", errInvalidRequest, err)
	}
	req.Header.Set("User-Agent", fetchUserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/markdown,text/plain;q=0.9,*/*;q=0.5")
	resp, err := h.pageClient().Do(req)
	if err != nil {
		return "", out, &abi.Error{Code: abi.ErrUnavailable, Message: fmt.Sprintf("fetch %s: %v", rawURL, err)}
	}
	defer resp.Body.Close()
	out.Status, out.FinalURL = resp.StatusCode, resp.Request.URL.String()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	out.ContentType = mt
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", out, &abi.Error{Code: abi.ErrUnavailable, Message: fmt.Sprintf("fetch %s: %s", rawURL, resp.Status)}
	case resp.StatusCode >= 400:
		return "", out, &abi.Error{Code: abi.ErrNotFound, Message: fmt.Sprintf("fetch %s: %s", rawURL, resp.Status)}
	}
	if mt != "" && !strings.HasPrefix(mt, "text/") && !strings.Contains(mt, "xml") && !strings.Contains(mt, "json") {
		return "", out, &abi.Error{Code: abi.ErrInvalid, Message: fmt.Sprintf("fetch %s: %s is not a text document", rawURL, mt)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, fetchMaxBytes+1))
	if err != nil {
		return "", out, &abi.Error{Code: abi.ErrUnavailable, Message: fmt.Sprintf("fetch %s: %v", rawURL, err)}
	}
	if len(body) > fetchMaxBytes {
		return "", out, fmt.Errorf("%w: %s is larger than %d MB", ErrLimit, rawURL, fetchMaxBytes>>20)
	}
	reader, err := charset.NewReader(strings.NewReader(string(body)), resp.Header.Get("Content-Type"))
	if err == nil {
		if utf8Body, err := io.ReadAll(reader); err == nil {
			body = utf8Body
		}
	}
	out.Bytes = len(body)
	return string(body), out, nil
}

func (h *Host) fnItemsFetch(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	st, err := h.needStore()
	if err != nil {
		return nil, err
	}
	var in abi.ItemsFetchInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if h.services.Settings != nil && h.services.Settings()["fetch_urls"] == "false" {
		return nil, &abi.Error{Code: abi.ErrDenied, Message: errFetchDisabled.Error()}
	}
	it, err := st.GetItem(ctx, in.ItemID)
	if err != nil {
		return nil, err
	}
	if it.URL == "" {
		return nil, fmt.Errorf("%w: item %s has no URL", errInvalidRequest, in.ItemID)
	}
	text, out, err := h.FetchPage(ctx, it.URL)
	if err != nil {
		return nil, err
	}
	u := store.DerivedUpdate{Content: &text}
	if it.ContentType == "" && out.ContentType != "" {
		u.ContentType = &out.ContentType
	}
	if out.FinalURL != it.URL {
		u.Metadata = map[string]any{"final_url": out.FinalURL}
	}
	return out, st.UpdateItemDerived(ctx, in.ItemID, u)
}
