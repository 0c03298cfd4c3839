package jsonflow

import (
	"bytes"
	"net/netip"
	"strings"
)

// UNSW-NB15's full records (UNSW-NB15_1.csv to _4.csv, the labeled data
// set of the Australian Centre for Cyber Security): CSV without a header,
// 49 columns whose names the data set's feature list gives. The columns
// read are the addresses and ports (ports may be written in hex), the
// protocol's name, the duration, the bytes and packets each way (source to
// destination first) and the start and end times (Stime, Ltime: unix
// seconds); the label columns are not read.

// unswColumns are the column names of UNSW-NB15's full records.
var unswColumns = []string{
	"srcip", "sport", "dstip", "dsport", "proto", "state", "dur", "sbytes", "dbytes", "sttl", "dttl", "sloss", "dloss",
	"service", "Sload", "Dload", "Spkts", "Dpkts", "swin", "dwin", "stcpb", "dtcpb", "smeansz", "dmeansz", "trans_depth",
	"res_bdy_len", "Sjit", "Djit", "Stime", "Ltime", "Sintpkt", "Dintpkt", "tcprtt", "synack", "ackdat", "is_sm_ips_ports",
	"ct_state_ttl", "ct_flw_http_mthd", "is_ftp_login", "ct_ftp_cmd", "ct_srv_src", "ct_srv_dst", "ct_dst_ltm",
	"ct_src_ltm", "ct_src_dport_ltm", "ct_dst_sport_ltm", "ct_dst_src_ltm", "attack_cat", "Label",
}

// unswNames map the columns read to flow fields.
var unswNames = map[string]string{
	"srcip": "src_ip", "sport": "src_port", "dstip": "dst_ip", "dsport": "dst_port", "proto": "protocol",
	"dur": "duration", "sbytes": "bytes_in", "dbytes": "bytes_out", "Spkts": "packets", "Dpkts": "packets_out",
	"Stime": "start", "Ltime": "end",
}

// unswLine reports whether line is one of UNSW-NB15's full records: 49
// comma-separated values, addresses first and third.
func unswLine(line []byte) bool {
	f := bytes.Split(line, []byte{','})
	if len(f) != len(unswColumns) {
		return false
	}
	_, err1 := netip.ParseAddr(string(f[0]))
	_, err2 := netip.ParseAddr(string(f[2]))
	return err1 == nil && err2 == nil && len(f[28]) >= 9 && len(f[29]) >= 9
}

// unswFields read UNSW-NB15's columns, by name as written and in lower
// case, headerless (unswCols) or under its header (csvHeader): not in the
// shared table, where FortiGate's srcip and dstip, say, would be read as
// UNSW's in any JSON or CSV. Its records are Argus's (which made the data
// set): an ICMP record's type is in its source "port", and Argus's names
// of protocols hold.
var unswFields = func() map[string]*field {
	m := map[string]*field{}
	for col, name := range unswNames {
		f := *fields[name]
		f.argus = true
		m[col], m[strings.ToLower(col)] = &f, &f
	}
	return m
}()

// unswHeader reports whether a CSV header's names are UNSW-NB15's (its
// own "dsport" among them).
func unswHeader(names [][]byte) bool {
	for _, n := range names {
		if strings.EqualFold(string(n), "dsport") {
			return true
		}
	}
	return false
}

// unswCols is how each of the 49 columns is read.
func unswCols() []*field {
	cols := make([]*field, len(unswColumns))
	for i, name := range unswColumns {
		cols[i] = unswFields[name]
	}
	return cols
}
