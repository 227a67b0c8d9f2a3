package t2

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InspectTokens tells the pair's times and never its tokens.
func TestInspectTokens(t *testing.T) {
	refreshed := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	accessExp, refreshExp := refreshed.Add(time.Hour), refreshed.Add(7*24*time.Hour)
	access, refresh := jwt("a", accessExp), jwt("r", refreshExp)
	mtime := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		body    string // "" : no file
		want    TokenInfo
		wantErr string
	}{
		{"no file yet", "", TokenInfo{}, ""},
		{"refreshed pair", `{"access_token":"` + access + `","refresh_token":"` + refresh + `","refreshed_at":"2026-12-01T10:00:00Z"}`,
			TokenInfo{Saved: true, SavedAt: refreshed, RefreshedAt: refreshed, AccessExpires: accessExp, RefreshExpires: refreshExp}, ""},
		{"no refreshed_at: the file's time", `{"access_token":"opaque","refresh_token":"` + refresh + `"}`,
			TokenInfo{Saved: true, SavedAt: mtime, RefreshExpires: refreshExp}, ""},
		{"corrupt", `{"access_token": "tok`, TokenInfo{}, "delete it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t2-tokens.json")
			if tt.body != "" {
				os.WriteFile(path, []byte(tt.body), 0o600)
				os.Chtimes(path, mtime, mtime)
			}
			got, err := InspectTokens(context.Background(), path, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.SavedAt.Equal(tt.want.SavedAt) || !got.RefreshedAt.Equal(tt.want.RefreshedAt) || got.Saved != tt.want.Saved ||
				!got.AccessExpires.Equal(tt.want.AccessExpires) || !got.RefreshExpires.Equal(tt.want.RefreshExpires) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
