
/*
 * aigw: unit tests of aigw_util.c and aigw_file.c.
 */


#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"
#include "aigw_file.h"
#include "aigw_util.h"


static void
test_hex(void)
{
    char                        out[8];
    static const unsigned char  in[] = { 0x00, 0xff, 0x1a, 0x9b };

    memset(out, 'x', sizeof(out));
    aigw_hex(out, in, sizeof(in));

    CHECK_MEM(out, 8, "00ff1a9b", 8);

    memset(out, 'x', sizeof(out));
    aigw_hex(out, in, 0);
    CHECK(out[0] == 'x');
}


static void
test_sha256(void)
{
    char            hex[64];
    char           *million;
    unsigned char   md[32];

    aigw_sha256_hex(hex, "", 0);
    CHECK_MEM(hex, 64, "e3b0c44298fc1c149afbf4c8996fb924"
                       "27ae41e4649b934ca495991b7852b855", 64);

    aigw_sha256_hex(hex, NULL, 0);
    CHECK_MEM(hex, 64, "e3b0c44298fc1c149afbf4c8996fb924"
                       "27ae41e4649b934ca495991b7852b855", 64);

    aigw_sha256_hex(hex, "abc", 3);
    CHECK_MEM(hex, 64, "ba7816bf8f01cfea414140de5dae2223"
                       "b00361a396177a9cb410ff61f20015ad", 64);

    aigw_sha256_hex(hex,
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
    CHECK_MEM(hex, 64, "248d6a61d20638b8e5c026930c3e6039"
                       "a33ce45964ff2167f6ecedd419db06c1", 64);

    million = malloc(1000000);
    if (CHECK(million != NULL)) {
        memset(million, 'a', 1000000);
        aigw_sha256_hex(hex, million, 1000000);
        CHECK_MEM(hex, 64, "cdc76e5c9914fb9281a1c7e284d73e67"
                           "f1809a48a497200e046d39ccc7112cd0", 64);
        free(million);
    }

    aigw_sha256(md, "abc", 3);
    CHECK(md[0] == 0xba && md[31] == 0xad);
}


static void
test_hmac(void)
{
    char           hex[64];
    unsigned char  key[131], md[32];

    /* RFC 4231, test case 1 */

    memset(key, 0x0b, 20);
    aigw_hmac_sha256(md, key, 20, "Hi There", 8);
    aigw_hex(hex, md, 32);
    CHECK_MEM(hex, 64, "b0344c61d8db38535ca8afceaf0bf12b"
                       "881dc200c9833da726e9376c2e32cff7", 64);

    /* test case 2 */

    aigw_hmac_sha256(md, "Jefe", 4, "what do ya want for nothing?", 28);
    aigw_hex(hex, md, 32);
    CHECK_MEM(hex, 64, "5bdcc146bf60754e6a042426089575c7"
                       "5a003f089d2739839dec58b964ec3843", 64);

    /* test case 6: a key longer than the block */

    memset(key, 0xaa, 131);
    aigw_hmac_sha256(md, key, 131,
                     "Test Using Larger Than Block-Size Key - Hash Key First",
                     54);
    aigw_hex(hex, md, 32);
    CHECK_MEM(hex, 64, "60e431591ee0b67f0d8a26aacbf5b77f"
                       "8e0bc6213728c5140546040f0ee37f54", 64);

    /* an empty key and message (Python's hmac gives the same) */

    aigw_hmac_sha256(md, NULL, 0, NULL, 0);
    aigw_hex(hex, md, 32);
    CHECK_MEM(hex, 64, "b613679a0814d9ec772f95d778c35fc5"
                       "ff1697c493715653c6c712144292c5ad", 64);
}


/* HMAC-SHA256 with pads hashed once, as aigw_hmac_sha256() */

static void
test_hmac_pads(void)
{
    char            hex[64];
    size_t          i, k;
    EVP_MD_CTX     *inner, *outer, *work;
    unsigned char   key[131], md[32], ref[32];

    static const struct {
        size_t       key_len;
        const char  *msg;
        const char  *hex;
    } rfc4231[] = {
        { 20, "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { 131, "Test Using Larger Than Block-Size Key - Hash Key First",
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { 131, "This is a test using a larger than block-size key and a"
               " larger than block-size data. The key needs to be hashed"
               " before being used by the HMAC algorithm.",
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" }
    };

    inner = EVP_MD_CTX_new();
    outer = EVP_MD_CTX_new();
    work = EVP_MD_CTX_new();

    if (!CHECK(inner != NULL && outer != NULL && work != NULL)) {
        return;
    }

    for (i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
        memset(key, i ? 0xaa : 0x0b, rfc4231[i].key_len);

        CHECK_EQ(aigw_hmac_sha256_pads(inner, outer, key,
                                       rfc4231[i].key_len), 0);

        /* the pads serve again and again */

        for (k = 0; k < 3; k++) {
            CHECK_EQ(aigw_hmac_sha256_from_pads(md, work, inner, outer,
                                                rfc4231[i].msg,
                                                strlen(rfc4231[i].msg)), 0);
            aigw_hex(hex, md, 32);
            CHECK_MEM(hex, 64, rfc4231[i].hex, 64);
        }

        aigw_hmac_sha256(md, key, rfc4231[i].key_len, rfc4231[i].msg,
                         strlen(rfc4231[i].msg));
        aigw_hex(hex, md, 32);
        CHECK_MEM(hex, 64, rfc4231[i].hex, 64);
    }

    /* keys of every length around the block, messages of a few lengths */

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) (i * 13 + 1);
    }

    for (i = 0; i <= 70; i++) {
        CHECK_EQ(aigw_hmac_sha256_pads(inner, outer, key, i), 0);

        for (k = 0; k <= 130; k += 65) {
            aigw_hmac_sha256(ref, key, i, key, k);
            CHECK_EQ(aigw_hmac_sha256_from_pads(md, work, inner, outer,
                                                key, k), 0);

            if (!CHECK(memcmp(md, ref, 32) == 0)) {
                fprintf(stderr, "    key %zu bytes, message %zu\n", i, k);
            }
        }
    }

    CHECK_EQ(aigw_hmac_sha256_from_pads(md, work, inner, outer, NULL, 0), 0);
    aigw_hmac_sha256(ref, key, 70, NULL, 0);
    CHECK(memcmp(md, ref, 32) == 0);

    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
    EVP_MD_CTX_free(work);
}


/* what the one-shot functions keep can be freed, and made again */

static void
test_cleanup(void)
{
    char           hex[64];
    unsigned char  md[32];

    CHECK(aigw_sha256_md() != NULL);
    CHECK(aigw_sha256_md() == aigw_sha256_md());

    aigw_util_cleanup();
    aigw_util_cleanup();

    aigw_sha256_hex(hex, "abc", 3);
    CHECK_MEM(hex, 64, "ba7816bf8f01cfea414140de5dae2223"
                       "b00361a396177a9cb410ff61f20015ad", 64);

    aigw_util_cleanup();

    aigw_hmac_sha256(md, "Jefe", 4, "what do ya want for nothing?", 28);
    aigw_hex(hex, md, 32);
    CHECK_MEM(hex, 64, "5bdcc146bf60754e6a042426089575c7"
                       "5a003f089d2739839dec58b964ec3843", 64);

    aigw_util_cleanup();
}


static void
test_sha256_incremental(void)
{
    char            one[64], inc[64];
    size_t          i, j, len;
    unsigned char   data[300];
    aigw_sha256_t  *h;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char) (i * 7 + 3);
    }

    h = aigw_sha256_new();
    if (!CHECK(h != NULL)) {
        return;
    }

    /* empty */

    CHECK_EQ(aigw_sha256_final_hex(h, inc), 0);
    CHECK_MEM(inc, 64, "e3b0c44298fc1c149afbf4c8996fb924"
                       "27ae41e4649b934ca495991b7852b855", 64);

    /* every split point into two and three pieces, reusing the context */

    len = sizeof(data);
    aigw_sha256_hex(one, data, len);

    for (i = 0; i <= len; i++) {
        CHECK_EQ(aigw_sha256_update(h, data, i), 0);
        CHECK_EQ(aigw_sha256_update(h, data + i, len - i), 0);
        CHECK_EQ(aigw_sha256_final_hex(h, inc), 0);

        if (!CHECK_MEM(inc, 64, one, 64)) {
            fprintf(stderr, "    split at %zu\n", i);
        }
    }

    for (i = 0; i <= len; i += 13) {
        for (j = i; j <= len; j += 17) {
            aigw_sha256_update(h, data, i);
            aigw_sha256_update(h, data + i, j - i);
            aigw_sha256_update(h, data + j, 0);
            aigw_sha256_update(h, data + j, len - j);
            aigw_sha256_final_hex(h, inc);

            if (!CHECK_MEM(inc, 64, one, 64)) {
                fprintf(stderr, "    split at %zu, %zu\n", i, j);
            }
        }
    }

    /* byte by byte */

    for (i = 0; i < len; i++) {
        aigw_sha256_update(h, data + i, 1);
    }

    aigw_sha256_final_hex(h, inc);
    CHECK_MEM(inc, 64, one, 64);

    aigw_sha256_update(h, "abc", 3);
    aigw_sha256_final_hex(h, inc);
    CHECK_MEM(inc, 64, "ba7816bf8f01cfea414140de5dae2223"
                       "b00361a396177a9cb410ff61f20015ad", 64);

    aigw_sha256_free(h);
    aigw_sha256_free(NULL);
}


static void
check_encode(const char *src, size_t len, int keep_slash,
    const char *expected, int line)
{
    char    buf[256];
    size_t  n, m;

    n = aigw_uri_encode(NULL, src, len, keep_slash);
    memset(buf, 0, sizeof(buf));
    m = aigw_uri_encode(buf, src, len, keep_slash);

    if (!CHECK_EQ_SIZE(n, m) || !CHECK_STR(buf, expected)) {
        fprintf(stderr, "    (encode case at line %d)\n", line);
    }
}


static void
check_label(const char *src, size_t len, const char *expected, int line)
{
    char    buf[256];
    size_t  n, m;

    n = aigw_label_escape(NULL, src, len);
    memset(buf, 0, sizeof(buf));
    m = aigw_label_escape(buf, src, len);

    if (!CHECK_EQ_SIZE(n, m) || !CHECK_STR(buf, expected)
        || !CHECK(n <= 2 * len))
    {
        fprintf(stderr, "    (label case at line %d)\n", line);
    }
}


static void
test_label_escape(void)
{
    check_label("", 0, "", __LINE__);
    check_label("anthropic.claude-v2:1", 21, "anthropic.claude-v2:1",
                __LINE__);
    check_label("a\"b", 3, "a\\\"b", __LINE__);
    check_label("a\\b", 3, "a\\\\b", __LINE__);
    check_label("a\nb", 3, "a\\nb", __LINE__);
    check_label("\"\\\n", 3, "\\\"\\\\\\n", __LINE__);
    /* only those three: tabs, CR, UTF-8 and NUL pass as they are */
    check_label("\t\r\xc3\xa9", 4, "\t\r\xc3\xa9", __LINE__);
    check_label("a\0b", 3, "a", __LINE__);
}


static void
test_uri_encode(void)
{
    check_encode("", 0, 0, "", __LINE__);
    check_encode("abcXYZ019-._~", 13, 0, "abcXYZ019-._~", __LINE__);
    check_encode("a b", 3, 0, "a%20b", __LINE__);
    check_encode("a+b=c&d", 7, 0, "a%2Bb%3Dc%26d", __LINE__);
    check_encode("us.x-v1:0", 9, 0, "us.x-v1%3A0", __LINE__);
    check_encode("a/b:c", 5, 0, "a%2Fb%3Ac", __LINE__);
    check_encode("a/b:c", 5, 1, "a/b%3Ac", __LINE__);
    check_encode("/%3A/", 5, 1, "/%253A/", __LINE__);
    check_encode("%", 1, 0, "%25", __LINE__);
    check_encode("\0\n\x7f\x80\xff", 5, 0, "%00%0A%7F%80%FF", __LINE__);
    check_encode("\xe1\x88\xb4", 3, 0, "%E1%88%B4", __LINE__);
    check_encode("!*'()", 5, 0, "%21%2A%27%28%29", __LINE__);
}


static void
check_decode(const char *src, const char *expected, size_t expected_len,
    int line)
{
    char    buf[256];
    size_t  n;

    memset(buf, 'x', sizeof(buf));
    n = aigw_uri_decode(buf, src, strlen(src));

    if (!CHECK_EQ_SIZE(n, expected_len)
        || (expected && !CHECK_MEM(buf, n, expected, expected_len)))
    {
        fprintf(stderr, "    (decode case at line %d)\n", line);
    }
}


static void
test_uri_decode(void)
{
    char    buf[32];
    size_t  n;

    check_decode("", "", 0, __LINE__);
    check_decode("abc", "abc", 3, __LINE__);
    check_decode("%41%42c", "ABc", 3, __LINE__);
    check_decode("%4a%4A", "JJ", 2, __LINE__);
    check_decode("a+b", "a+b", 3, __LINE__);
    check_decode("%2B%20", "+ ", 2, __LINE__);
    check_decode("%00", "\0", 1, __LINE__);
    check_decode("v1%3A0%2Fx", "v1:0/x", 6, __LINE__);
    check_decode("%253A", "%3A", 3, __LINE__);
    check_decode("%E1%88%B4", "\xe1\x88\xb4", 3, __LINE__);

    check_decode("%", NULL, (size_t) -1, __LINE__);
    check_decode("%4", NULL, (size_t) -1, __LINE__);
    check_decode("abc%", NULL, (size_t) -1, __LINE__);
    check_decode("abc%a", NULL, (size_t) -1, __LINE__);
    check_decode("%G1", NULL, (size_t) -1, __LINE__);
    check_decode("%1G", NULL, (size_t) -1, __LINE__);
    check_decode("%%41", NULL, (size_t) -1, __LINE__);
    check_decode("% 1", NULL, (size_t) -1, __LINE__);

    /* in place */

    memcpy(buf, "x%3Ay%2f", 8);
    n = aigw_uri_decode(buf, buf, 8);
    CHECK_MEM(buf, n, "x:y/", 4);

    /* the length bounds the input: a '%' cut by it is malformed */

    n = aigw_uri_decode(buf, "%41%42", 4);
    CHECK_EQ_SIZE(n, (size_t) -1);
}


static void
test_ct_equal(void)
{
    CHECK(aigw_ct_equal("abc", "abc", 3));
    CHECK(!aigw_ct_equal("abc", "abd", 3));
    CHECK(!aigw_ct_equal("xbc", "abc", 3));
    CHECK(aigw_ct_equal("abc", "abd", 2));
    CHECK(aigw_ct_equal("", "", 0));
    CHECK(aigw_ct_equal("a\0b", "a\0b", 3));
    CHECK(!aigw_ct_equal("a\0b", "a\0c", 3));
}


static void
test_file_read(void)
{
    int     fd;
    char   *text, dir[] = "/tmp/aigw-unit-XXXXXX", path[64];
    char    err[AIGW_FILE_ERR_LEN];
    size_t  len;
    FILE   *f;

    if (!CHECK(mkdtemp(dir) != NULL)) {
        return;
    }

    snprintf(path, sizeof(path), "%s/f", dir);

    /* missing, a directory */

    CHECK(aigw_file_read(path, 100, &len, err, sizeof(err)) == NULL);
    CHECK_STR(err, "open() failed (2: No such file or directory)");
    CHECK(aigw_file_read(dir, 100, &len, err, sizeof(err)) == NULL);
    CHECK_STR(err, "not a regular file");

    /* empty, then 10 bytes against limits around them */

    fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd != -1);
    close(fd);

    len = 99;
    text = aigw_file_read(path, 0, &len, err, sizeof(err));
    CHECK(text != NULL && len == 0 && text[0] == '\0');
    free(text);

    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("0123456789", f);
    fclose(f);

    text = aigw_file_read(path, 10, &len, err, sizeof(err));
    CHECK(text != NULL && len == 10 && strcmp(text, "0123456789") == 0);
    free(text);

    CHECK(aigw_file_read(path, 9, &len, err, sizeof(err)) == NULL);
    CHECK_STR(err, "larger than 9 bytes");
    CHECK(aigw_file_read(path, 0, &len, err, sizeof(err)) == NULL);
    CHECK_STR(err, "larger than 0 bytes");

    unlink(path);
    rmdir(dir);
}



/* ASCII case-insensitive comparison against a lowercase literal */

static void
test_str_icase(void)
{
    CHECK(aigw_str_ieq("Content-Type", 12, "content-type"));
    CHECK(aigw_str_ieq("", 0, ""));
    CHECK(!aigw_str_ieq("Content-Typ", 11, "content-type"));
    CHECK(!aigw_str_ieq("Content-Types", 13, "content-type"));
    CHECK(!aigw_str_ieq("\r", 1, "-"));

    CHECK(aigw_str_ihas("amazon.Titan-Image-Generator-v1", 31, "image"));
    CHECK(aigw_str_ihas("image", 5, "image"));
    CHECK(aigw_str_ihas("x", 1, ""));
    CHECK(!aigw_str_ihas("imag", 4, "image"));
    CHECK(!aigw_str_ihas("amazon.titan-embed-text-v2:0", 28, "image"));
    CHECK(!aigw_str_ihas("a\rb", 3, "a-b"));
}

int
main(void)
{
    test_hex();
    test_sha256();
    test_hmac();
    test_sha256_incremental();
    test_uri_encode();
    test_uri_decode();
    test_label_escape();
    test_ct_equal();
    test_hmac_pads();
    test_cleanup();
    test_file_read();
    test_str_icase();

    return unit_done("test_util");
}
