package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// LargeFiles is the number of files in the large-file set, at any scale.
const LargeFiles = 4

// NewLargeDataset lays out the set of a few large files that the second
// interruption run syncs: with files this large, the file in flight at the
// cut is a large part of the set, and what a tool keeps of it decides what
// the second attempt costs (rsync without --partial sends it again from
// zero). At scale 1 it is about 35 MiB: two camera recordings of 8 to
// 12 MiB and a firmware image of 6 to 10 MiB, all incompressible, and a
// database of 6 to 8 MiB in compressible pages. Sizes are drawn from the
// seed and grow linearly with scale; the number of files stays LargeFiles.
func NewLargeDataset(seed uint64, scale float64) (*Dataset, error) {
	if !(scale > 0) || scale > 1000 {
		return nil, fmt.Errorf("scale %v: want a number in (0, 1000]", scale)
	}
	r := rand.New(rand.NewPCG(seed, 0x6c61726765736574))
	size := func(loMiB, hiMiB int) int64 {
		n := float64(loMiB<<20+r.IntN((hiMiB-loMiB)<<20)) * scale
		return max(pageSize, int64(n))
	}
	db := size(6, 8) &^ (pageSize - 1) // whole pages
	files := []FileSpec{
		{Path: "db/history.db", Kind: KindDB, Size: db},
		{Path: "firmware/gateway-2026.07.img", Kind: KindImage, Size: size(6, 10)},
		{Path: "video/cam-1/2026-07-01T06.mp4", Kind: KindMedia, Size: size(8, 12)},
		{Path: "video/cam-2/2026-07-01T06.mp4", Kind: KindMedia, Size: size(8, 12)},
	}
	slices.SortFunc(files, func(a, b FileSpec) int { return strings.Compare(a.Path, b.Path) })
	for i := range files {
		files[i].Index = i
	}
	return &Dataset{Seed: seed, Scale: scale, Files: files, Large: true}, nil
}

// imageContent is a compressed firmware image: a squashfs-like superblock
// and incompressible bytes.
func imageContent(r *rand.Rand, f FileSpec) []byte {
	return randomContent(r, f, "hsqs")
}
