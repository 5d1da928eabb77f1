"""The media plane: WebRTC stage peers, the per-space mixer, and the LL-HLS packager.

No HTTP and no SQL in here: api/ and services/ drive it through small interfaces.
"""
